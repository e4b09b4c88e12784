import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';
import { customResourceDefinitions, newNamespaceController } from './namespace.ts';

const deleting = new Date(start).toISOString().replace(/\.\d+Z$/, 'Z');
const ns = (terminating: boolean): KubeObject => ({
  metadata: { name: 'team', ...(terminating ? { deletionTimestamp: deleting, finalizers: ['hold'] } : {}) },
  spec: { finalizers: ['kubernetes'] },
  ...(terminating ? { status: { phase: 'Terminating' } } : {}),
});
const obj = (name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name, namespace: 'team', ...meta },
});
const widgets: Resource = {
  group: 'example.com',
  version: 'v1',
  resource: 'widgets',
  kind: 'Widget',
  namespaced: true,
};
const crd: KubeObject = {
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true }],
  },
};

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  requeued: boolean;
}

const cases: Case[] = [
  {
    name: 'an active namespace is left alone',
    objects: [
      [resources.namespaces, ns(false)],
      [resources.configMaps, obj('c')],
    ],
    want: [],
    requeued: false,
  },
  {
    name: 'a terminating namespace has its objects (custom resources too) deleted and is looked at again',
    objects: [
      [resources.namespaces, ns(true)],
      [resources.configMaps, obj('c')],
      [resources.pods, obj('p')],
      [customResourceDefinitions, crd],
      [widgets, obj('w')],
    ],
    want: ['delete configmaps c', 'delete pods p', 'delete widgets w'],
    requeued: true,
  },
  {
    name: 'objects already being deleted are waited for, not deleted again',
    objects: [
      [resources.namespaces, ns(true)],
      [resources.configMaps, obj('c', { deletionTimestamp: deleting, finalizers: ['x'] })],
    ],
    want: [],
    requeued: true,
  },
  {
    name: 'an empty terminating namespace loses its kubernetes finalizer',
    objects: [[resources.namespaces, ns(true)]],
    want: ['update namespaces/finalize team'],
    requeued: false,
  },
];

for (const tc of cases) {
  test(`namespace: ${tc.name}`, async () => {
    const c = await fakeCluster(newNamespaceController, tc.objects);
    try {
      // The fake client does not serve namespaces/finalize: record the call, answer with the body.
      c.client.addReactor((a) => (a.subresource === 'finalize' ? a.object : undefined));
      while (c.controller.queue.length > 0) {
        const k = await c.controller.queue.get();
        if (k) c.controller.queue.done(k);
      }
      await c.controller.reconcile('team');
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      assert.equal(c.clock.pending > 0, tc.requeued);
      const fin = c.client.writes().find((a) => a.subresource === 'finalize')?.object as
        | KubeObject
        | undefined;
      if (fin) assert.deepEqual(fin.spec?.finalizers, []);
    } finally {
      await c.stop();
    }
  });
}
