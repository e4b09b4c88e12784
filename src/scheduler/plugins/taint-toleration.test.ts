import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Taint, Toleration } from '../../client/index.ts';
import { cacheOf, filterReasons, node, pod, scores } from '../fixtures.ts';
import { taintToleration } from './taint-toleration.ts';

const cp: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
const cases: { name: string; taints: Taint[]; tolerations?: Toleration[]; want?: string }[] = [
  { name: 'no taints', taints: [] },
  {
    name: 'untolerated NoSchedule',
    taints: [cp],
    want: 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
  },
  { name: 'tolerated by Exists', taints: [cp], tolerations: [{ key: cp.key, operator: 'Exists' }] },
  {
    name: 'tolerated by Equal with value',
    taints: [{ key: 'a', value: 'b', effect: 'NoExecute' }],
    tolerations: [{ key: 'a', value: 'b' }],
  },
  {
    name: 'wrong value',
    taints: [{ key: 'a', value: 'b', effect: 'NoExecute' }],
    tolerations: [{ key: 'a', value: 'c' }],
    want: 'node(s) had untolerated taint {a: b}',
  },
  {
    name: 'wrong effect',
    taints: [cp],
    tolerations: [{ key: cp.key, operator: 'Exists', effect: 'NoExecute' }],
    want: 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
  },
  {
    name: 'empty key Exists tolerates all',
    taints: [cp, { key: 'x', effect: 'NoExecute' }],
    tolerations: [{ operator: 'Exists' }],
  },
  { name: 'PreferNoSchedule never filters', taints: [{ key: 'p', effect: 'PreferNoSchedule' }] },
];

for (const tc of cases) {
  test(`TaintToleration filter: ${tc.name}`, () => {
    const c = cacheOf([node('n', { taints: tc.taints })]);
    const got = filterReasons(taintToleration, pod('p', { spec: { tolerations: tc.tolerations } }), c, 'n');
    assert.deepEqual(got, tc.want ? [tc.want] : undefined);
  });
}

test('TaintToleration score: fewer untolerated PreferNoSchedule taints wins', () => {
  const soft = (k: string): Taint => ({ key: k, effect: 'PreferNoSchedule' });
  const c = cacheOf([
    node('a'),
    node('b', { taints: [soft('x')] }),
    node('c', { taints: [soft('x'), soft('y')] }),
  ]);
  assert.deepEqual(scores(taintToleration, pod('p'), c), { a: 100, b: 50, c: 0 });
  const tol = pod('p', {
    spec: { tolerations: [{ key: 'x', operator: 'Exists', effect: 'PreferNoSchedule' }] },
  });
  assert.deepEqual(scores(taintToleration, tol, c), { a: 100, b: 100, c: 0 });
});
