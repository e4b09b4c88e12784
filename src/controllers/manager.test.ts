import assert from 'node:assert/strict';
import test from 'node:test';
import { FakeClient, FakeClock, InformerFactory, type ReplicaSet, resources } from '../client/index.ts';
import { InvalidError } from '../lib/errors.ts';
import { silentLogger } from '../lib/logger.ts';
import { defaultControllers, selectControllers, startControllerManager } from './manager.ts';

const registry = new Map([
  ['a', 1],
  ['b', 2],
  ['c', 3],
]);

const selections = [
  { name: 'default is all', wanted: undefined, want: ['a', 'b', 'c'] },
  { name: 'star minus one', wanted: ['*', '-b'], want: ['a', 'c'] },
  { name: 'named only', wanted: ['c', 'a'], want: ['c', 'a'] },
];

for (const tc of selections) {
  test(`selectControllers: ${tc.name}`, () =>
    assert.deepEqual(selectControllers(registry, tc.wanted), tc.want));
}

test('selectControllers: an unknown name is InvalidError', () => {
  assert.throws(() => selectControllers(registry, ['nope']), InvalidError);
});

test('startControllerManager runs the registry against a fake cluster and stops', async () => {
  const client = new FakeClient();
  client.seed(resources.replicaSets, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } },
    },
  } as ReplicaSet);
  const informers = new InformerFactory(client, { clock: new FakeClock() });
  const m = startControllerManager({
    client,
    informers,
    log: silentLogger(),
    controllers: ['replicaset', 'garbagecollector'],
  });
  try {
    assert.deepEqual(m.names, ['replicaset', 'garbagecollector']);
    const deadline = Date.now() + 5000;
    while ((await client.list(resources.pods)).items.length < 2) {
      if (Date.now() > deadline) throw new Error('timed out waiting for pods');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await m.stop();
    await informers.stop();
  }
  assert.ok(defaultControllers().has('deployment'));
});

test('startControllerManager with leader election: only the lease holder runs controllers', async () => {
  const client = new FakeClient();
  client.seed(resources.replicaSets, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } },
    },
  } as ReplicaSet);
  const informers = new InformerFactory(client);
  const m = startControllerManager({
    client,
    informers,
    log: silentLogger(),
    controllers: ['replicaset'],
    leaderElection: { identity: 'a' },
  });
  try {
    const deadline = Date.now() + 5000;
    while ((await client.list(resources.pods)).items.length < 1) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a pod');
      await new Promise((r) => setTimeout(r, 5));
    }
    const lease = await client.get(resources.leases, 'kube-controller-manager', { namespace: 'kube-system' });
    assert.equal((lease.spec as { holderIdentity?: string }).holderIdentity, 'a');
  } finally {
    await m.stop();
    await informers.stop();
  }
});
