import assert from 'node:assert/strict';
import test from 'node:test';
import { type EndpointSlice, planSlices, type SliceEndpoint } from './endpoint-slice-plan.ts';
import type { EndpointPort } from './service-pods.ts';

const owner = {
  apiVersion: 'v1',
  kind: 'Service',
  name: 'web',
  uid: 'u1',
  controller: true,
  blockOwnerDeletion: true,
};
const meta = {
  namespace: 'default',
  generateName: 'web-',
  labels: { 'kubernetes.io/service-name': 'web' },
  owner,
};
const http: EndpointPort[] = [{ name: 'http', port: 8080, protocol: 'TCP' }];
const alt: EndpointPort[] = [{ name: 'http', port: 9090, protocol: 'TCP' }];
const ep = (n: number, ready = true): SliceEndpoint => ({
  addresses: [`10.0.0.${n}`],
  conditions: { ready, serving: ready, terminating: false },
  targetRef: { kind: 'Pod', namespace: 'default', name: `p${n}`, uid: `u${n}` },
});
const slice = (name: string, ports: EndpointPort[], eps: SliceEndpoint[], uid = 'u1'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'default', labels: { ...meta.labels }, ownerReferences: [{ ...owner, uid }] },
  addressType: 'IPv4',
  endpoints: eps,
  ports,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ep(from + i));

interface Case {
  name: string;
  existing: EndpointSlice[];
  desired: { ports: EndpointPort[]; endpoints: SliceEndpoint[] }[];
  max?: number;
  /** Each write as `verb name: addresses`; creates are named `new`. */
  want: string[];
}

const cases: Case[] = [
  {
    name: 'new endpoints fill the slice being rewritten before a full unchanged one',
    existing: [slice('a', http, [ep(1), ep(2)]), slice('b', http, [ep(3), ep(4)])],
    desired: [{ ports: http, endpoints: [ep(1), ep(2, false), ep(3), ep(4), ep(5)] }],
    max: 3,
    want: ['update a: 1,2,5'],
  },
  {
    name: 'past the maximum, a new slice',
    existing: [slice('a', http, [ep(1), ep(2)])],
    desired: [{ ports: http, endpoints: range(1, 5) }],
    max: 3,
    want: ['create new: 4,5', 'update a: 1,2,3'],
  },
  {
    name: 'changed ports: the old slice is rewritten, not replaced',
    existing: [slice('a', http, [ep(1)])],
    desired: [{ ports: alt, endpoints: [ep(1)] }],
    want: ['update a: 1'],
  },
  {
    name: 'everything gone: one slice becomes the empty placeholder, the others go',
    existing: [slice('a', http, [ep(1)]), slice('b', http, [ep(2)])],
    desired: [],
    want: ['delete b: 2', 'update a: '],
  },
  {
    name: 'a placeholder is kept as it is',
    existing: [slice('a', [], [])],
    desired: [],
    want: [],
  },
  {
    name: 'slices of another Service uid are deleted',
    existing: [slice('old', http, [ep(1)], 'u0')],
    desired: [{ ports: http, endpoints: [ep(1)] }],
    want: ['create new: 1', 'delete old: 1'],
  },
];

for (const tc of cases)
  test(`endpoint slice plan: ${tc.name}`, () => {
    const plan = planSlices({
      meta,
      existing: tc.existing,
      desired: tc.desired,
      maxEndpointsPerSlice: tc.max ?? 100,
    });
    const show = (verb: string, s: EndpointSlice) =>
      `${verb} ${s.metadata.name ?? 'new'}: ${(s.endpoints ?? []).map((e) => e.addresses[0]?.split('.')[3]).join(',')}`;
    const got = [
      ...plan.create.map((s) => show('create', s)),
      ...plan.update.map((s) => show('update', s)),
      ...plan.delete.map((s) => show('delete', s)),
    ].sort();
    assert.deepEqual(got, [...tc.want].sort());
    for (const s of [...plan.create, ...plan.update]) {
      assert.ok((s.endpoints ?? []).length <= (tc.max ?? 100));
      assert.deepEqual(s.metadata.ownerReferences, [owner]);
    }
  });
