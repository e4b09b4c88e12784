import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheOf, filterReasons, node, pod, scores } from '../fixtures.ts';
import type { Affinity, NodeSelectorRequirement } from '../types.ts';
import { nodeAffinity, reason } from './node-affinity.ts';

const required = (...e: NodeSelectorRequirement[]): Affinity => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: e }] },
  },
});
const labels = { disk: 'ssd', zone: 'a', cores: '8' };
const cases: { name: string; nodeSelector?: Record<string, string>; affinity?: Affinity; fits: boolean }[] = [
  { name: 'nothing asked', fits: true },
  { name: 'nodeSelector matches', nodeSelector: { disk: 'ssd' }, fits: true },
  { name: 'nodeSelector differs', nodeSelector: { disk: 'hdd' }, fits: false },
  { name: 'In', affinity: required({ key: 'zone', operator: 'In', values: ['a', 'b'] }), fits: true },
  { name: 'NotIn', affinity: required({ key: 'zone', operator: 'NotIn', values: ['a'] }), fits: false },
  {
    name: 'Exists / DoesNotExist',
    affinity: required({ key: 'disk', operator: 'Exists' }, { key: 'gpu', operator: 'DoesNotExist' }),
    fits: true,
  },
  { name: 'Gt', affinity: required({ key: 'cores', operator: 'Gt', values: ['4'] }), fits: true },
  { name: 'Lt', affinity: required({ key: 'cores', operator: 'Lt', values: ['4'] }), fits: false },
  {
    name: 'terms are ORed, matchFields on metadata.name',
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z'] }] },
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] },
          ],
        },
      },
    },
    fits: true,
  },
];

for (const tc of cases) {
  test(`NodeAffinity filter: ${tc.name}`, () => {
    const c = cacheOf([node('n', { labels })]);
    const p = pod('p', { spec: { nodeSelector: tc.nodeSelector, affinity: tc.affinity } });
    assert.deepEqual(filterReasons(nodeAffinity, p, c, 'n'), tc.fits ? undefined : [reason]);
  });
}

test('NodeAffinity score: summed weights of preferred terms, normalised', () => {
  const c = cacheOf([
    node('a', { labels: { zone: 'a', disk: 'ssd' } }),
    node('b', { labels: { zone: 'a' } }),
    node('c'),
  ]);
  const pref = (w: number, key: string, v: string) => ({
    weight: w,
    preference: { matchExpressions: [{ key, operator: 'In' as const, values: [v] }] },
  });
  const p = pod('p', {
    spec: {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [pref(1, 'zone', 'a'), pref(3, 'disk', 'ssd')],
        },
      },
    },
  });
  assert.deepEqual(scores(nodeAffinity, p, c), { a: 100, b: 25, c: 0 });
});
