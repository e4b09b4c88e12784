import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Pod, type ReplicaSet, type Resource, resources } from '../client/index.ts';
import { InvalidError } from '../lib/errors.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';
import { newReplicaSetController, newReplicationControllerController } from './replica-set.ts';

const labels = { app: 'web' };
const rsUid = 'rs-uid';
const rs = (replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet => ({
  metadata: { name: 'web', namespace: 'default', uid: rsUid, generation: 1 },
  spec: {
    replicas,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    ...extra,
  },
});
const at = (s: number) => new Date(start + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const pod = (
  name: string,
  o: { owned?: boolean; node?: string; ready?: number; labels?: object } = {},
): Pod => ({
  metadata: {
    name,
    namespace: 'default',
    labels: { ...(o.labels ?? labels) } as Record<string, string>,
    ...(o.owned === false
      ? {}
      : {
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rsUid, controller: true },
          ],
        }),
  },
  spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}) },
  status: {
    phase: o.node ? 'Running' : 'Pending',
    ...(o.ready !== undefined
      ? { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at(o.ready) }] }
      : {}),
  },
});
const P = (p: KubeObject): [Resource, KubeObject] => [resources.pods, p];
const R = (r: KubeObject): [Resource, KubeObject] => [resources.replicaSets, r];

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  status?: Record<string, unknown>;
  check?: (pods: Pod[], uid: string) => void;
}

const cases: Case[] = [
  {
    name: 'creates the missing pods, owned by the ReplicaSet',
    objects: [R(rs(3))],
    want: ['create pods', 'create pods', 'create pods', 'update replicasets/status web'],
    status: { replicas: 0, observedGeneration: 1 },
    check: (pods, uid) => {
      assert.equal(pods.length, 3);
      for (const p of pods) {
        assert.equal(p.metadata.ownerReferences?.[0]?.uid, uid);
        assert.match(p.metadata.name ?? '', /^web-/);
        assert.deepEqual(p.metadata.labels, labels);
      }
    },
  },
  {
    name: 'adopts a matching orphan and creates the rest',
    objects: [R(rs(2)), P(pod('orphan', { owned: false }))],
    want: ['patch pods orphan', 'create pods', 'update replicasets/status web'],
    check: (pods, uid) => assert.ok(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === uid)),
  },
  {
    name: 'releases an owned pod whose labels stopped matching',
    objects: [R(rs(1)), P(pod('a', { node: 'n1', ready: 0 })), P(pod('b', { labels: { app: 'other' } }))],
    want: ['patch pods b', 'update replicasets/status web'],
    status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1 },
    check: (pods) =>
      assert.equal(pods.find((p) => p.metadata.name === 'b')?.metadata.ownerReferences, undefined),
  },
  {
    name: 'leaves pods of another controller alone',
    objects: [
      R(rs(1)),
      P({
        ...pod('x', { owned: false }),
        metadata: {
          ...pod('x', { owned: false }).metadata,
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'o', uid: 'other', controller: true },
          ],
        },
      }),
    ],
    want: ['create pods', 'update replicasets/status web'],
  },
  {
    name: 'deletes unscheduled, then not-ready, then newest-ready pods first',
    objects: [
      R(rs(2)),
      P(pod('old-ready', { node: 'n1', ready: 0 })),
      P(pod('new-ready', { node: 'n2', ready: 50 })),
      P(pod('not-ready', { node: 'n3' })),
      P(pod('pending')),
    ],
    want: ['delete pods pending', 'delete pods not-ready', 'update replicasets/status web'],
  },
  {
    name: 'counts available pods only after minReadySeconds',
    objects: [
      R(rs(2, { minReadySeconds: 30 })),
      P(pod('a', { node: 'n1', ready: -60 })),
      P(pod('b', { node: 'n1', ready: -5 })),
    ],
    want: ['update replicasets/status web'],
    status: { replicas: 2, readyReplicas: 2, availableReplicas: 1 },
  },
  {
    name: 'a selector that does not match the template creates nothing (a warning event only)',
    objects: [R(rs(2, { selector: { matchLabels: { app: 'other' } } }))],
    want: ['create events'],
  },
  {
    name: 'writes nothing when pods and status are current',
    objects: [
      R({
        ...rs(1),
        status: {
          replicas: 1,
          fullyLabeledReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          observedGeneration: 1,
        },
      }),
      P(pod('a', { node: 'n1', ready: 0 })),
    ],
    want: [],
  },
];

for (const tc of cases) {
  test(`replicaset: ${tc.name}`, async () => {
    const c = await fakeCluster(newReplicaSetController, tc.objects);
    try {
      await c.controller.reconcile('default/web');
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      const stored = c.client.peek<ReplicaSet>(resources.replicaSets, 'default/web');
      for (const [k, v] of Object.entries(tc.status ?? {})) assert.deepEqual(stored?.status?.[k], v, k);
      const pods = (await c.client.list<Pod>(resources.pods, { namespace: 'default' })).items;
      tc.check?.(pods, c.uid(rsUid));
    } finally {
      await c.stop();
    }
  });
}

test('replicaset: expectations stop a second sync from creating again until the pods are seen or expire', async () => {
  const c = await fakeCluster(newReplicaSetController, [R(rs(2))]);
  try {
    // Creations the cache never sees: the API accepted them but no event arrives.
    c.client.addReactor((a) => (a.verb === 'create' && a.resource === 'pods' ? pod('ghost') : undefined));
    await c.controller.reconcile('default/web');
    await c.controller.reconcile('default/web');
    assert.equal(writeLog(c.client).filter((w) => w === 'create pods').length, 2);
    await c.clock.advance(6 * 60_000);
    await c.controller.reconcile('default/web');
    assert.equal(writeLog(c.client).filter((w) => w === 'create pods').length, 4);
  } finally {
    await c.stop();
  }
});

test('replicaset: a rejected template costs one create, sets ReplicaFailure and returns the error', async () => {
  const c = await fakeCluster(newReplicaSetController, [R(rs(5))]);
  try {
    c.client.addReactor((a) => {
      if (a.verb === 'create' && a.resource === 'pods') throw new InvalidError('pod is invalid');
      return undefined;
    });
    await assert.rejects(c.controller.reconcile('default/web'), InvalidError);
    assert.equal(writeLog(c.client).filter((w) => w === 'create pods').length, 1);
    const stored = c.client.peek<ReplicaSet>(resources.replicaSets, 'default/web');
    const cond = ((stored?.status?.conditions ?? []) as { type: string; reason: string }[])[0];
    assert.equal(cond?.type, 'ReplicaFailure');
    assert.equal(cond?.reason, 'FailedCreate');
  } finally {
    await c.stop();
  }
});

test('replicationcontroller: same mechanism with a map selector', async () => {
  const rc: KubeObject = {
    metadata: { name: 'web', namespace: 'default', uid: 'rc-uid', generation: 2 },
    spec: {
      replicas: 2,
      selector: labels,
      template: { metadata: { labels }, spec: { containers: [{ name: 'c' }] } },
    },
  };
  const c = await fakeCluster(newReplicationControllerController, [[resources.replicationControllers, rc]]);
  try {
    await c.controller.reconcile('default/web');
    assert.deepEqual(writeLog(c.client), [
      'create pods',
      'create pods',
      'update replicationcontrollers/status web',
    ]);
    const pods = (await c.client.list<Pod>(resources.pods, { namespace: 'default' })).items;
    assert.equal(pods[0]?.metadata.ownerReferences?.[0]?.kind, 'ReplicationController');
    assert.equal(pods[0]?.metadata.ownerReferences?.[0]?.apiVersion, 'v1');
  } finally {
    await c.stop();
  }
});
