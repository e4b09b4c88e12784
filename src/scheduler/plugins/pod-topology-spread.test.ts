import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../client/index.ts';
import { cacheOf, filterReasons, node, pod, scores } from '../fixtures.ts';
import type { TopologySpreadConstraint } from '../types.ts';
import { missingLabelReason, podTopologySpread, reason } from './pod-topology-spread.ts';

const zoned = [
  node('a1', { labels: { zone: 'a' } }),
  node('a2', { labels: { zone: 'a' } }),
  node('b1', { labels: { zone: 'b' } }),
  node('x'),
];
const web = (name: string, nodeName?: string) => pod(name, { labels: { app: 'web' }, nodeName });
const spread = (o: Partial<TopologySpreadConstraint> = {}): Pod =>
  pod('new', {
    labels: { app: 'web' },
    spec: {
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'zone',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'web' } },
          ...o,
        },
      ],
    },
  });

const cases: { name: string; existing: Pod[]; p: Pod; on: string; want?: string }[] = [
  {
    name: 'balanced zones take the pod anywhere',
    existing: [web('w1', 'a1'), web('w2', 'b1')],
    p: spread(),
    on: 'a2',
  },
  {
    name: 'the fuller zone is refused at maxSkew 1',
    existing: [web('w1', 'a1'), web('w2', 'b1'), web('w3', 'a2')],
    p: spread(),
    on: 'a1',
    want: reason,
  },
  {
    name: 'the emptier zone is accepted',
    existing: [web('w1', 'a1'), web('w2', 'b1'), web('w3', 'a2')],
    p: spread(),
    on: 'b1',
  },
  {
    name: 'maxSkew 2 allows the fuller zone',
    existing: [web('w1', 'a1'), web('w2', 'b1'), web('w3', 'a2')],
    p: spread({ maxSkew: 2 }),
    on: 'a1',
  },
  {
    name: 'a node without the topology key is refused',
    existing: [],
    p: spread(),
    on: 'x',
    want: missingLabelReason,
  },
  {
    name: 'ScheduleAnyway never filters',
    existing: [web('w1', 'a1'), web('w3', 'a2')],
    p: spread({ whenUnsatisfiable: 'ScheduleAnyway' }),
    on: 'a1',
  },
  {
    name: 'pods in other namespaces do not count',
    existing: [
      pod('o1', { labels: { app: 'web' }, nodeName: 'a1', namespace: 'other' }),
      pod('o2', { labels: { app: 'web' }, nodeName: 'a2', namespace: 'other' }),
    ],
    p: spread(),
    on: 'a1',
  },
];

for (const tc of cases) {
  test(`PodTopologySpread filter: ${tc.name}`, () => {
    const got = filterReasons(podTopologySpread, tc.p, cacheOf(zoned, tc.existing), tc.on);
    assert.deepEqual(got, tc.want ? [tc.want] : undefined);
  });
}

test("PodTopologySpread score: default spreading of a controller's replicas across nodes", () => {
  const nodes = [node('n1'), node('n2'), node('n3')];
  const bound = [
    pod('r1', { owner: 'rs', nodeName: 'n1' }),
    pod('r2', { owner: 'rs', nodeName: 'n1' }),
    pod('r3', { owner: 'rs', nodeName: 'n2' }),
    pod('other', { owner: 'rs2', nodeName: 'n3' }),
  ];
  assert.deepEqual(scores(podTopologySpread, pod('r4', { owner: 'rs' }), cacheOf(nodes, bound)), {
    n1: 0,
    n2: 50,
    n3: 100,
  });
  assert.deepEqual(
    scores(podTopologySpread, pod('solo'), cacheOf(nodes, bound)),
    { n1: 0, n2: 0, n3: 0 },
    'no owner, no opinion',
  );
});
