import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Pod, type Resource, resources } from '../client/index.ts';
import { timestamp } from './controller.ts';
import { newDisruptionController, type PodDisruptionBudget } from './disruption.ts';
import { fakeCluster, start } from './fake-cluster.ts';

const owner = (kind: string, name: string, uid: string) => [
  { apiVersion: 'apps/v1', kind, name, uid, controller: true },
];
const pod = (name: string, ready: boolean, o: { rs?: string; deleting?: boolean } = {}): Pod => ({
  metadata: {
    name,
    namespace: 'ns',
    labels: { app: 'web' },
    ...(o.rs ? { ownerReferences: owner('ReplicaSet', o.rs, `${o.rs}-uid`) } : {}),
    ...(o.deleting ? { deletionTimestamp: timestamp(start), finalizers: ['x'] } : {}),
  },
  spec: { containers: [{ name: 'c' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pdb = (
  spec: PodDisruptionBudget['spec'],
  status?: PodDisruptionBudget['status'],
): PodDisruptionBudget => ({
  metadata: { name: 'budget', namespace: 'ns', generation: 2 },
  spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
  ...(status ? { status } : {}),
});
const deployment: KubeObject = {
  metadata: { name: 'web', namespace: 'ns', uid: 'web-uid' },
  spec: { replicas: 4 },
};
const rs: KubeObject = {
  metadata: {
    name: 'web-1',
    namespace: 'ns',
    uid: 'web-1-uid',
    ownerReferences: owner('Deployment', 'web', 'web-uid'),
  },
  spec: { replicas: 4 },
};
const threeReady: [Resource, KubeObject][] = [
  [resources.pods, pod('a', true, { rs: 'web-1' })],
  [resources.pods, pod('b', true, { rs: 'web-1' })],
  [resources.pods, pod('c', true, { rs: 'web-1' })],
  [resources.pods, pod('d', false, { rs: 'web-1' })],
];

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: { currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number; expectedPods: number };
  reason: string;
  disrupted?: string[];
}

const cases: Case[] = [
  {
    name: 'minAvailable as an integer counts the selected pods',
    objects: [[resources.podDisruptionBudgets, pdb({ minAvailable: 2 })], ...threeReady],
    want: { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 4 },
    reason: 'SufficientPods',
  },
  {
    name: 'maxUnavailable as a percentage of the Deployment scale, rounded up',
    objects: [
      [resources.podDisruptionBudgets, pdb({ maxUnavailable: '30%' })],
      [resources.deployments, deployment],
      [resources.replicaSets, rs],
      ...threeReady,
    ],
    want: { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 4 },
    reason: 'SufficientPods',
  },
  {
    name: 'minAvailable as a percentage; none to spare',
    objects: [
      [resources.podDisruptionBudgets, pdb({ minAvailable: '75%' })],
      [resources.deployments, deployment],
      [resources.replicaSets, rs],
      ...threeReady,
    ],
    want: { currentHealthy: 3, desiredHealthy: 3, disruptionsAllowed: 0, expectedPods: 4 },
    reason: 'InsufficientPods',
  },
  {
    name: 'a pod just evicted is not healthy; an old eviction record is dropped; deleting pods do not count',
    objects: [
      [
        resources.podDisruptionBudgets,
        pdb(
          { minAvailable: 1 },
          { disruptedPods: { a: timestamp(start - 1000), b: timestamp(start - 3 * 60_000) } },
        ),
      ],
      ...threeReady.slice(0, 3),
      [resources.pods, pod('e', true, { deleting: true })],
    ],
    want: { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 4 },
    reason: 'SufficientPods',
    disrupted: ['a'],
  },
];

for (const tc of cases) {
  test(`disruption: ${tc.name}`, async () => {
    const c = await fakeCluster(newDisruptionController, tc.objects);
    try {
      await c.controller.reconcile('ns/budget');
      const got = c.client.peek(resources.podDisruptionBudgets, 'ns/budget') as PodDisruptionBudget;
      const s = got.status ?? {};
      assert.deepEqual(
        {
          currentHealthy: s.currentHealthy,
          desiredHealthy: s.desiredHealthy,
          disruptionsAllowed: s.disruptionsAllowed,
          expectedPods: s.expectedPods,
        },
        tc.want,
      );
      assert.equal(s.observedGeneration, 2);
      const cond = s.conditions?.find((x) => x.type === 'DisruptionAllowed');
      assert.equal(cond?.reason, tc.reason);
      assert.equal(cond?.status, tc.want.disruptionsAllowed > 0 ? 'True' : 'False');
      assert.deepEqual(Object.keys(s.disruptedPods ?? {}), tc.disrupted ?? []);
    } finally {
      await c.stop();
    }
  });
}

test('disruption: maxUnavailable over pods without a controller fails safe', async () => {
  const c = await fakeCluster(newDisruptionController, [
    [resources.podDisruptionBudgets, pdb({ maxUnavailable: 1 })],
    [resources.pods, pod('a', true)],
    [resources.pods, pod('b', true, { rs: 'gone' })],
  ]);
  try {
    await assert.rejects(c.controller.reconcile('ns/budget'), /found no controllers/);
    const got = c.client.peek(resources.podDisruptionBudgets, 'ns/budget') as PodDisruptionBudget;
    assert.equal(got.status?.disruptionsAllowed, 0);
    assert.equal(got.status?.conditions?.[0]?.reason, 'SyncFailed');
  } finally {
    await c.stop();
  }
});
