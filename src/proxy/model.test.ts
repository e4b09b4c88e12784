import assert from 'node:assert/strict';
import { test } from 'node:test';
import { service, slice } from './fixtures.ts';
import { servicePortModels } from './model.ts';
import type { EndpointSlice, Service } from './types.ts';

interface Case {
  name: string;
  svc: Service;
  slices: EndpointSlice[];
  /** `ip:port` of backends per port, `*` marking local ones. */
  want: Record<string, string[]>;
  wantLocal?: Record<string, string[]>;
}

const cip = { clusterIP: '10.43.0.5' };
const show = (bs: { ip: string; port: number; isLocal: boolean }[]) =>
  bs.map((b) => `${b.ip}:${b.port}${b.isLocal ? '*' : ''}`);

const cases: Case[] = [
  {
    name: 'ready endpoints only, sorted, unset conditions count as ready',
    svc: service('web', cip),
    slices: [
      slice('web', [
        { ip: '10.42.0.7', node: 'n1', ready: true },
        { ip: '10.42.0.5' },
        { ip: '10.42.0.6', node: 'n2', ready: false },
      ]),
    ],
    want: { 'default/web/tcp/http': ['10.42.0.5:8080', '10.42.0.7:8080*'] },
    wantLocal: { 'default/web/tcp/http': ['10.42.0.7:8080*'] },
  },
  {
    name: 'no ready endpoint: serving and terminating ones take traffic',
    svc: service('web', cip),
    slices: [
      slice('web', [
        { ip: '10.42.0.5', ready: false, serving: true, terminating: true },
        { ip: '10.42.0.6', ready: false, serving: false, terminating: true },
      ]),
    ],
    want: { 'default/web/tcp/http': ['10.42.0.5:8080'] },
  },
  {
    name: 'several ports matched by name and protocol across slices, duplicates once',
    svc: service('dns', {
      ...cip,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    }),
    slices: [
      slice('dns', [{ ip: '10.42.0.5' }], {
        ports: [
          { name: 'dns', port: 5353, protocol: 'UDP' },
          { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
        ],
      }),
      slice('dns', [{ ip: '10.42.0.5' }, { ip: '10.42.0.9' }], {
        name: 'dns-2',
        ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
      }),
    ],
    want: {
      'default/dns/udp/dns': ['10.42.0.5:5353', '10.42.0.9:5353'],
      'default/dns/tcp/dns-tcp': ['10.42.0.5:5354'],
    },
  },
  {
    name: 'unnamed port: the id carries the port number',
    svc: service('one', { ...cip, ports: [{ port: 80 }] }),
    slices: [slice('one', [{ ip: '10.42.0.5' }], { ports: [{ port: 8080 }] })],
    want: { 'default/one/tcp/80': ['10.42.0.5:8080'] },
  },
  {
    name: 'odd input: bad port numbers skipped, odd port names made safe for nft',
    svc: service('odd', {
      ...cip,
      ports: [
        { name: 'we ird"', port: 80 },
        { name: 'zero', port: 0 },
      ],
    }),
    slices: [
      slice('odd', [{ ip: '10.42.0.5' }, { ip: '999.1.1.1' }], {
        ports: [
          { name: 'we ird"', port: 8080 },
          { name: 'zero', port: 70000 },
        ],
      }),
    ],
    want: { 'default/odd/tcp/we_ird_': ['10.42.0.5:8080'] },
  },
  { name: 'headless: no rules', svc: service('h', { clusterIP: 'None' }), slices: [], want: {} },
  {
    name: 'ExternalName: no rules',
    svc: service('x', { type: 'ExternalName', externalName: 'example.com' }),
    slices: [],
    want: {},
  },
  {
    name: 'kube-system/kube-dns is served by each node itself',
    svc: service('kube-dns', cip, 'kube-system'),
    slices: [slice('kube-dns', [{ ip: '10.42.0.5' }], { namespace: 'kube-system' })],
    want: {},
  },
  {
    name: 'IPv6 slices and addresses are ignored',
    svc: service('web', cip),
    slices: [{ ...slice('web', [{ ip: 'fd00::5' }]), addressType: 'IPv6' }],
    want: { 'default/web/tcp/http': [] },
  },
];

for (const tc of cases) {
  test(`model: ${tc.name}`, () => {
    const got = servicePortModels(tc.svc, tc.slices, 'n1');
    assert.deepEqual(Object.fromEntries(got.map((m) => [m.id, show(m.backends)])), tc.want);
    if (tc.wantLocal)
      assert.deepEqual(Object.fromEntries(got.map((m) => [m.id, show(m.localBackends)])), tc.wantLocal);
  });
}

test('model: types, affinity and policies are carried over', () => {
  const [m] = servicePortModels(
    service('lb', {
      ...cip,
      type: 'LoadBalancer',
      ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      sessionAffinity: 'ClientIP',
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Local',
      externalIPs: ['192.0.2.50', 'fd00::1'],
    }),
    [],
    'n1',
  );
  assert.ok(m);
  assert.equal(m.nodePort, 30080);
  assert.equal(m.loadBalancer, true);
  assert.equal(m.affinitySeconds, 10_800);
  assert.equal(m.externalLocal, true);
  assert.equal(m.internalLocal, true);
  assert.deepEqual(m.externalIPs, ['192.0.2.50']);
  const [c] = servicePortModels(
    service('c', { ...cip, ports: [{ name: 'http', port: 80, nodePort: 30081 }] }),
    [],
    'n1',
  );
  assert.equal(c?.nodePort, undefined, 'a ClusterIP Service has no node port even if one is set');
});
