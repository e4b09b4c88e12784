import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../client/index.ts';
import { cacheOf, filterReasons, node, pod, scores } from '../fixtures.ts';
import type { Affinity } from '../types.ts';
import {
  affinityReason,
  antiAffinityReason,
  existingAntiAffinityReason,
  interPodAffinity,
} from './inter-pod-affinity.ts';

const host = 'kubernetes.io/hostname';
const term = (app: string, topologyKey = host) => ({ labelSelector: { matchLabels: { app } }, topologyKey });
const anti = (app: string): Affinity => ({
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app)] },
});
const aff = (app: string, key = host): Affinity => ({
  podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app, key)] },
});
const nodes = [
  node('n1', { labels: { zone: 'a' } }),
  node('n2', { labels: { zone: 'a' } }),
  node('n3', { labels: { zone: 'b' } }),
];
const db = pod('db', { labels: { app: 'db' }, nodeName: 'n1' });

const cases: { name: string; existing: Pod[]; p: Pod; on: string; want?: string }[] = [
  {
    name: 'anti-affinity: node with a matching pod refused',
    existing: [db],
    p: pod('p', { spec: { affinity: anti('db') } }),
    on: 'n1',
    want: antiAffinityReason,
  },
  {
    name: 'anti-affinity: other node fine',
    existing: [db],
    p: pod('p', { spec: { affinity: anti('db') } }),
    on: 'n2',
  },
  {
    name: 'affinity: node with a matching pod accepted',
    existing: [db],
    p: pod('p', { spec: { affinity: aff('db') } }),
    on: 'n1',
  },
  {
    name: 'affinity: node without one refused',
    existing: [db],
    p: pod('p', { spec: { affinity: aff('db') } }),
    on: 'n2',
    want: affinityReason,
  },
  {
    name: 'affinity by zone',
    existing: [db],
    p: pod('p', { spec: { affinity: aff('db', 'zone') } }),
    on: 'n2',
  },
  {
    name: 'affinity: first of its group may go anywhere',
    existing: [],
    p: pod('p', { labels: { app: 'web' }, spec: { affinity: aff('web') } }),
    on: 'n3',
  },
  {
    name: "existing pod's anti-affinity keeps matching pods away",
    existing: [pod('lonely', { nodeName: 'n3', spec: { affinity: anti('web') } })],
    p: pod('p', { labels: { app: 'web' } }),
    on: 'n3',
    want: existingAntiAffinityReason,
  },
];

for (const tc of cases) {
  test(`InterPodAffinity filter: ${tc.name}`, () => {
    const got = filterReasons(interPodAffinity, tc.p, cacheOf(nodes, tc.existing), tc.on);
    assert.deepEqual(got, tc.want ? [tc.want] : undefined);
  });
}

test('InterPodAffinity score: preferred affinity attracts, preferred anti-affinity repels', () => {
  const weighted = (w: number, app: string, key: string) => ({ weight: w, podAffinityTerm: term(app, key) });
  const p = pod('p', {
    spec: {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(10, 'db', 'zone')] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(5, 'db', host)] },
      },
    },
  });
  assert.deepEqual(scores(interPodAffinity, p, cacheOf(nodes, [db])), { n1: 50, n2: 100, n3: 0 });
});

test("InterPodAffinity score: existing pods' preferences count too (symmetry)", () => {
  const likesWeb = pod('cache', {
    nodeName: 'n3',
    spec: {
      affinity: {
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 7, podAffinityTerm: term('web', host) },
          ],
        },
      },
    },
  });
  assert.deepEqual(
    scores(interPodAffinity, pod('w', { labels: { app: 'web' } }), cacheOf(nodes, [likesWeb])),
    {
      n1: 0,
      n2: 0,
      n3: 100,
    },
  );
});
