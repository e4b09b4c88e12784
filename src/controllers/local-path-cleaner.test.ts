import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';
import { LocalPathCleaner } from './local-path-cleaner.ts';
import type { PersistentVolume } from './persistent-volume-match.ts';

const volume = (
  o: { node?: string; deleting?: boolean; path?: string; finalizers?: string[] } = {},
): KubeObject => ({
  metadata: {
    name: 'pvc-u1',
    annotations: { 'drover.io/local-path-node': o.node ?? 'n1' },
    finalizers: o.finalizers ?? ['drover.io/local-path-cleanup', 'other'],
    ...(o.deleting === false ? {} : { deletionTimestamp: '2026-01-01T00:00:00Z' }),
  },
  spec: { local: { path: o.path ?? '/var/lib/drover/storage/pvc-u1_default_data' } },
});

const cases: { name: string; pv: KubeObject; removed: string[]; want: string[]; finalizers?: string[] }[] = [
  {
    name: 'a deleted volume of this node: directory removed, then its finalizer',
    pv: volume(),
    removed: ['/var/lib/drover/storage/pvc-u1_default_data'],
    want: ['patch persistentvolumes pvc-u1'],
    finalizers: ['other'],
  },
  { name: "another node's volume is left to that node", pv: volume({ node: 'n2' }), removed: [], want: [] },
  {
    name: 'a volume not being deleted is left alone',
    pv: volume({ deleting: false }),
    removed: [],
    want: [],
  },
  {
    name: 'a path the provisioner did not make is never removed (the finalizer still goes)',
    pv: volume({ path: '/etc' }),
    removed: [],
    want: ['patch persistentvolumes pvc-u1'],
  },
  {
    name: 'a path with .. is never removed',
    pv: volume({ path: '/var/lib/drover/storage/../../../pvc-u1_x' }),
    removed: [],
    want: ['patch persistentvolumes pvc-u1'],
  },
  {
    name: 'without our finalizer there is nothing to do',
    pv: volume({ finalizers: ['other'] }),
    removed: [],
    want: [],
  },
];

for (const tc of cases) {
  test(`local-path-cleaner: ${tc.name}`, async () => {
    const removed: string[] = [];
    const objects: [Resource, KubeObject][] = [[resources.persistentVolumes, tc.pv]];
    const c = await fakeCluster(
      (ctx) => new LocalPathCleaner(ctx, { nodeName: 'n1', remove: async (p) => void removed.push(p) }),
      objects,
    );
    try {
      await c.controller.reconcile('pvc-u1');
      assert.deepEqual(removed, tc.removed);
      assert.deepEqual(writeLog(c.client), tc.want);
      if (tc.finalizers)
        assert.deepEqual(
          c.client.peek<PersistentVolume>(resources.persistentVolumes, 'pvc-u1')?.metadata.finalizers,
          tc.finalizers,
        );
    } finally {
      await c.stop();
    }
  });
}
