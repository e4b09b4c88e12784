import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { skeleton } from './base.ts';
import { canUseNetns, service, slice, testNetns } from './fixtures.ts';
import { servicePortModels } from './model.ts';
import { nftRunner } from './nft.ts';
import { emptyRuleSet, type RuleContext, type RuleSet, serviceRules } from './rules.ts';
import { buildScript, withHairpin } from './transaction.ts';
import type { EndpointSlice, Service } from './types.ts';

interface Case {
  name: string;
  svc: Service;
  slices: EndpointSlice[];
  ctx?: Partial<RuleContext>;
  /** chain → rules */
  chains: Record<string, string[]>;
  /** map → elements as `key : value` (or `key` for sets) */
  elements: Record<string, string[]>;
  sets?: number;
}

const cip = { clusterIP: '10.43.0.5' };
const two = [
  slice('web', [
    { ip: '10.42.0.5', node: 'n1' },
    { ip: '10.42.0.6', node: 'n2' },
  ]),
];
const dnat2 =
  'meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.42.0.5 . 8080, 1 : 10.42.0.6 . 8080 }';
const masq = ['ip saddr != 10.42.0.0/16 fib saddr type != local jump mark-for-masquerade'];
const svcChain = 'service-default/web/tcp/http';
const extChain = 'external-default/web/tcp/http';
const nodePort = { ...cip, type: 'NodePort' as const, ports: [{ name: 'http', port: 80, nodePort: 30080 }] };

const cases: Case[] = [
  {
    name: 'ClusterIP: random DNAT over the ready endpoints, masquerade from outside the pod network',
    svc: service('web', cip),
    slices: two,
    chains: { [svcChain]: [...masq, dnat2] },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`],
    },
  },
  {
    name: 'one endpoint: a plain DNAT',
    svc: service('web', cip),
    slices: [slice('web', [{ ip: '10.42.0.5' }])],
    chains: { [svcChain]: [...masq, 'meta l4proto tcp dnat to 10.42.0.5:8080'] },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`],
    },
  },
  {
    name: 'no endpoints: cluster IP and node port rejected',
    svc: service('web', nodePort),
    slices: [slice('web', [{ ip: '10.42.0.5', ready: false }])],
    chains: {},
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'no-endpoint-services': ['10.43.0.5 . tcp . 80 : goto reject-chain'],
      'no-endpoint-nodeports': ['tcp . 30080 : goto reject-chain'],
    },
  },
  {
    name: 'NodePort: external traffic always masqueraded (marked in `services`), same chain as the cluster IP',
    svc: service('web', nodePort),
    slices: two,
    chains: { [svcChain]: [...masq, dnat2] },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`],
      'service-nodeports': [`tcp . 30080 : goto ${svcChain}`],
      'masquerade-nodeports': ['tcp . 30080'],
    },
  },
  {
    name: 'externalTrafficPolicy Local: pods and the node use all endpoints, others only local ones',
    svc: service('web', { ...nodePort, externalTrafficPolicy: 'Local' }),
    slices: two,
    chains: {
      [svcChain]: [...masq, dnat2],
      [extChain]: [
        `ip saddr 10.42.0.0/16 goto ${svcChain}`,
        `fib saddr type local goto ${svcChain}`,
        'meta l4proto tcp dnat to 10.42.0.5:8080',
      ],
    },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`],
      'service-nodeports': [`tcp . 30080 : goto ${extChain}`],
    },
  },
  {
    name: 'internalTrafficPolicy Local without a local endpoint: dropped',
    svc: service('web', { ...cip, internalTrafficPolicy: 'Local' }),
    slices: [slice('web', [{ ip: '10.42.0.6', node: 'n2' }])],
    chains: { [svcChain]: [...masq, 'drop'] },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`],
    },
  },
  {
    name: 'masquerade-all mode (no br_netfilter)',
    svc: service('web', cip),
    slices: two,
    ctx: { masqueradeAll: true },
    chains: { [svcChain]: ['jump mark-for-masquerade', dnat2] },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`],
    },
  },
  {
    name: 'LoadBalancer: its port on the node addresses when it holds it, plus the node port',
    svc: service('web', { ...nodePort, type: 'LoadBalancer', externalIPs: ['192.0.2.50'] }),
    slices: two,
    ctx: { loadBalancerPorts: new Set(['tcp . 80']) },
    chains: {
      [svcChain]: [...masq, dnat2],
      [extChain]: ['fib saddr type != local jump mark-for-masquerade', `goto ${svcChain}`],
    },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': [`10.43.0.5 . tcp . 80 : goto ${svcChain}`, `192.0.2.50 . tcp . 80 : goto ${extChain}`],
      'service-nodeports': [`tcp . 30080 : goto ${extChain}`, `tcp . 80 : goto ${extChain}`],
    },
  },
  {
    name: 'ClientIP affinity: a set and a chain per endpoint, known clients first',
    svc: service('web', {
      ...cip,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    }),
    slices: two,
    sets: 2,
    chains: {
      'endpoint-default/web/tcp/http/t60__10.42.0.5/8080': [
        'update @affinity-default/web/tcp/http/t60__10.42.0.5/8080 { ip saddr }',
        'meta l4proto tcp dnat to 10.42.0.5:8080',
      ],
      'endpoint-default/web/tcp/http/t60__10.42.0.6/8080': [
        'update @affinity-default/web/tcp/http/t60__10.42.0.6/8080 { ip saddr }',
        'meta l4proto tcp dnat to 10.42.0.6:8080',
      ],
      'service-default/web/tcp/http/t60': [
        ...masq,
        'ip saddr @affinity-default/web/tcp/http/t60__10.42.0.5/8080 goto endpoint-default/web/tcp/http/t60__10.42.0.5/8080',
        'ip saddr @affinity-default/web/tcp/http/t60__10.42.0.6/8080 goto endpoint-default/web/tcp/http/t60__10.42.0.6/8080',
        'numgen random mod 2 vmap { 0 : goto endpoint-default/web/tcp/http/t60__10.42.0.5/8080, 1 : goto endpoint-default/web/tcp/http/t60__10.42.0.6/8080 }',
      ],
    },
    elements: {
      'cluster-ips': ['10.43.0.5'],
      'service-ips': ['10.43.0.5 . tcp . 80 : goto service-default/web/tcp/http/t60'],
    },
  },
];

const baseCtx: RuleContext = {
  clusterCIDR: '10.42.0.0/16',
  masqueradeAll: false,
  loadBalancerPorts: new Set(),
};
const rulesOf = (tc: Case) =>
  serviceRules(servicePortModels(tc.svc, tc.slices, 'n1'), { ...baseCtx, ...tc.ctx });

for (const tc of cases) {
  test(`rules: ${tc.name}`, () => {
    const rs = rulesOf(tc);
    assert.deepEqual(Object.fromEntries(rs.chains), tc.chains);
    const els = Object.fromEntries(
      [...rs.elements].map(([m, e]) => [m, [...e].map(([k, v]) => (v ? `${k} : ${v}` : k))]),
    );
    assert.deepEqual(els, tc.elements);
    assert.equal(rs.sets.size, tc.sets ?? 0);
  });
}

let ns: { name: string; remove(): void } | undefined;
before(() => {
  if (canUseNetns) ns = testNetns('rules');
});
after(() => ns?.remove());

test('rules: every case loads into the kernel', { skip: !canUseNetns && 'needs root' }, async () => {
  const run = nftRunner({ netns: ns?.name });
  for (const tc of cases) {
    const rs: RuleSet = rulesOf(tc);
    const script = buildScript({
      table: 'drv-proxy-rules',
      skeleton: skeleton(),
      old: emptyRuleSet(),
      next: withHairpin(rs, rs.backendIPs),
      mode: 'recreate',
    });
    await assert.doesNotReject(run(script), tc.name);
  }
});

test('rules: odd port names and affinity timeouts still load', {
  skip: !canUseNetns && 'needs root',
}, async () => {
  const svc = service('odd', {
    clusterIP: '10.43.0.9',
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: -5 } },
    ports: [{ name: 'a b;c{"', port: 80, nodePort: 30099 }],
  });
  const sl = slice('odd', [{ ip: '10.42.0.5', node: 'n1' }], { ports: [{ name: 'a b;c{"', port: 8080 }] });
  const rs = serviceRules(servicePortModels(svc, [sl], 'n1'), baseCtx);
  const script = buildScript({
    table: 'drv-proxy-odd',
    skeleton: skeleton(),
    old: emptyRuleSet(),
    next: withHairpin(rs, rs.backendIPs),
    mode: 'recreate',
  });
  assert.match(script, /timeout 10800s/);
  await nftRunner({ netns: ns?.name })(script);
});
