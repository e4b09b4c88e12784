import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Toleration } from '../../client/index.ts';
import { cacheOf, filterReasons, node, pod } from '../fixtures.ts';
import { nodeName } from './node-name.ts';
import { nodeUnschedulable, reason } from './node-unschedulable.ts';

const cases: { name: string; cordoned: boolean; tolerations?: Toleration[]; fits: boolean }[] = [
  { name: 'schedulable node', cordoned: false, fits: true },
  { name: 'cordoned node', cordoned: true, fits: false },
  {
    name: 'cordoned, tolerated',
    cordoned: true,
    tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
    fits: true,
  },
];

for (const tc of cases) {
  test(`NodeUnschedulable: ${tc.name}`, () => {
    const c = cacheOf([node('n', { unschedulable: tc.cordoned })]);
    const got = filterReasons(nodeUnschedulable, pod('p', { spec: { tolerations: tc.tolerations } }), c, 'n');
    assert.deepEqual(got, tc.fits ? undefined : [reason]);
  });
}

for (const [want, on, fits] of [
  ['a', 'a', true],
  ['a', 'b', false],
  ['', 'b', true],
] as const) {
  test(`NodeName: pod naming "${want}" on node ${on}`, () => {
    const c = cacheOf([node('a'), node('b')]);
    const got = filterReasons(nodeName, pod('p', { spec: { nodeName: want || undefined } }), c, on);
    assert.deepEqual(got, fits ? undefined : ["node(s) didn't match the requested node name"]);
  });
}
