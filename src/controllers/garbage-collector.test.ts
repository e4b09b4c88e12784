import assert from 'node:assert/strict';
import test from 'node:test';
import type { OwnerReference } from '../api/types.ts';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';
import { newGarbageCollector } from './garbage-collector.ts';

const deleting = new Date(start).toISOString().replace(/\.\d+Z$/, 'Z');
const ref = (kind: string, name: string, uid: string, block = false): OwnerReference => ({
  apiVersion: kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'example.com/v1',
  kind,
  name,
  uid,
  controller: true,
  ...(block ? { blockOwnerDeletion: true } : {}),
});
const rs = (meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', ...meta },
  spec: {},
});
const pod = (name: string, owners: OwnerReference[]): KubeObject => ({
  metadata: { name, namespace: 'default', uid: `${name}-uid`, ownerReferences: owners },
  spec: { containers: [] },
});
const P = (p: KubeObject): [Resource, KubeObject] => [resources.pods, p];
const R = (r: KubeObject): [Resource, KubeObject] => [resources.replicaSets, r];

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  /** uids (as seeded) to reconcile, in order; the caches settle between them. */
  reconcile: string[];
  want: string[];
  /** Keys of pods and replicasets left at the end. */
  left?: string[];
}

const cases: Case[] = [
  {
    name: 'background: a pod whose owner is gone is deleted',
    objects: [P(pod('a', [ref('ReplicaSet', 'web', 'gone-uid')]))],
    reconcile: ['a-uid'],
    want: ['delete pods a'],
    left: [],
  },
  {
    name: 'a pod with a live owner stays',
    objects: [R(rs()), P(pod('a', [ref('ReplicaSet', 'web', 'rs-uid')]))],
    reconcile: ['a-uid'],
    want: [],
  },
  {
    name: 'a dangling reference is removed while another owner lives',
    objects: [
      R(rs()),
      P(
        pod('a', [
          ref('ReplicaSet', 'web', 'rs-uid'),
          { ...ref('ReplicaSet', 'old', 'gone-uid'), controller: false },
        ]),
      ),
    ],
    reconcile: ['a-uid'],
    want: ['patch pods a'],
  },
  {
    name: 'an owner of a kind not watched is never assumed gone',
    objects: [P(pod('a', [ref('Widget', 'w', 'w-uid')]))],
    reconcile: ['a-uid'],
    want: [],
  },
  {
    name: 'orphan: dependents lose the reference, then the owner its finalizer (and goes)',
    objects: [
      R(rs({ deletionTimestamp: deleting, finalizers: ['orphan'] })),
      P(pod('a', [ref('ReplicaSet', 'web', 'rs-uid', true)])),
    ],
    reconcile: ['rs-uid'],
    want: ['patch pods a', 'patch replicasets web'],
    left: ['default/a'],
  },
  {
    name: 'foreground: blocking dependents are deleted first, then the owner loses its finalizer',
    objects: [
      R(rs({ deletionTimestamp: deleting, finalizers: ['foregroundDeletion'] })),
      P(pod('a', [ref('ReplicaSet', 'web', 'rs-uid', true)])),
      P(pod('b', [ref('ReplicaSet', 'web', 'rs-uid', true)])),
    ],
    reconcile: ['rs-uid', 'rs-uid'],
    want: ['delete pods a', 'delete pods b', 'patch replicasets web'],
    left: [],
  },
];

for (const tc of cases) {
  test(`garbagecollector: ${tc.name}`, async () => {
    const c = await fakeCluster(newGarbageCollector, tc.objects);
    try {
      for (const uid of tc.reconcile) {
        await c.controller.reconcile(c.uid(uid));
        await c.settle();
      }
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      if (tc.left) {
        const pods = (await c.client.list(resources.pods)).items;
        const rss = (await c.client.list(resources.replicaSets)).items;
        assert.deepEqual(
          [...pods, ...rss].map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
          tc.left,
        );
      }
      if (tc.name.startsWith('orphan')) {
        assert.equal(c.client.peek(resources.pods, 'default/a')?.metadata.ownerReferences, undefined);
      }
    } finally {
      await c.stop();
    }
  });
}

test('garbagecollector: deleting an owner enqueues its dependents', async () => {
  const c = await fakeCluster(newGarbageCollector, [
    R(rs()),
    P(pod('a', [ref('ReplicaSet', 'web', 'rs-uid')])),
  ]);
  try {
    while (c.controller.queue.length > 0) {
      const k = await c.controller.queue.get();
      if (k) c.controller.queue.done(k);
    }
    await c.client.delete(resources.replicaSets, 'web', { namespace: 'default' });
    await c.until(() => c.controller.queue.length > 0, 'dependent enqueued');
    assert.equal(await c.controller.queue.get(), c.uid('a-uid'));
  } finally {
    await c.stop();
  }
});
