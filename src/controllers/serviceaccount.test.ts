import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';
import { newServiceAccountController } from './serviceaccount.ts';

const ns = (name: string, terminating = false): KubeObject => ({
  metadata: { name, ...(terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  ...(terminating ? { status: { phase: 'Terminating' } } : { status: { phase: 'Active' } }),
});
const sa = (namespace: string, name: string): KubeObject => ({ metadata: { name, namespace } });

const cases: { name: string; objects: [Resource, KubeObject][]; key: string; want: string[] }[] = [
  {
    name: 'a new namespace gets a default account',
    objects: [[resources.namespaces, ns('team')]],
    key: 'team',
    want: ['create serviceaccounts'],
  },
  {
    name: 'an existing default account is left alone',
    objects: [
      [resources.namespaces, ns('team')],
      [resources.serviceAccounts, sa('team', 'default')],
    ],
    key: 'team',
    want: [],
  },
  {
    name: 'other accounts do not stand in for default',
    objects: [
      [resources.namespaces, ns('team')],
      [resources.serviceAccounts, sa('team', 'builder')],
    ],
    key: 'team',
    want: ['create serviceaccounts'],
  },
  {
    name: 'a terminating namespace gets nothing',
    objects: [[resources.namespaces, ns('team', true)]],
    key: 'team',
    want: [],
  },
  { name: 'a namespace that is gone gets nothing', objects: [], key: 'team', want: [] },
];

for (const tc of cases) {
  test(`serviceaccount: ${tc.name}`, async () => {
    const c = await fakeCluster(newServiceAccountController, tc.objects);
    try {
      await c.controller.reconcile(tc.key);
      assert.deepEqual(writeLog(c.client), tc.want);
      for (const w of c.client.writes()) assert.equal((w.object as KubeObject).metadata.name, 'default');
    } finally {
      await c.stop();
    }
  });
}

test('serviceaccount: a deleted default account is created again', async () => {
  const c = await fakeCluster(newServiceAccountController, [
    [resources.namespaces, ns('team')],
    [resources.serviceAccounts, sa('team', 'default')],
  ]);
  try {
    while (c.controller.queue.length > 0) {
      const k = await c.controller.queue.get();
      if (k) c.controller.queue.done(k);
    }
    await c.client.delete(resources.serviceAccounts, 'default', { namespace: 'team' });
    await c.until(() => c.controller.queue.length === 1, 'namespace queued');
    const key = await c.controller.queue.get();
    assert.equal(key, 'team');
    await c.controller.reconcile(key ?? '');
    assert.ok(c.client.peek(resources.serviceAccounts, 'team/default'));
  } finally {
    await c.stop();
  }
});
