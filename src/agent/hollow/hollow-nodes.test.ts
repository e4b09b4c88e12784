import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FakeClient,
  FakeClock,
  InformerFactory,
  type Lease,
  type Node,
  type Pod,
  resources,
} from '../../client/index.ts';
import { silentLogger } from '../../lib/logger.ts';
import { HollowNodes } from './hollow-nodes.ts';

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('hollow nodes register, renew their leases, run bound pods and finish deletions', async () => {
  const client = new FakeClient();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const informers = new InformerFactory(client, { clock });
  const abort = new AbortController();
  const hollow = new HollowNodes({
    client,
    informers,
    log: silentLogger(),
    count: 3,
    clock,
    capacity: { cpu: '8' },
  });
  informers.start(abort.signal);
  await hollow.start();
  try {
    assert.deepEqual(hollow.names, ['hollow-node-0', 'hollow-node-1', 'hollow-node-2']);
    const n1 = client.peek<Node>(resources.nodes, 'hollow-node-1');
    assert.equal(n1?.status?.allocatable?.cpu, '8');
    assert.equal(n1?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const lease = () => client.peek<Lease>(resources.leases, 'kube-node-lease/hollow-node-1');
    const first = lease()?.spec?.renewTime;
    assert.ok(first);
    await clock.advance(10_000);
    await until(() => lease()?.spec?.renewTime !== first, 'lease renewed after 10 s');

    await client.create(resources.pods, {
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: 'hollow-node-1', containers: [{ name: 'c', image: 'busybox' }] },
    });
    await client.create(resources.pods, {
      metadata: { name: 'elsewhere', namespace: 'default' },
      spec: { nodeName: 'real-node', containers: [{ name: 'c' }] },
    });
    const p = () => client.peek<Pod>(resources.pods, 'default/p');
    await until(() => p()?.status?.phase === 'Running', 'pod Running');
    assert.equal(p()?.status?.podIP, '100.64.1.2');
    assert.equal(p()?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(client.peek<Pod>(resources.pods, 'default/elsewhere')?.status, undefined, 'not our node');

    // A graceful delete (finalizer keeps the object) is finished by the hollow kubelet.
    await client.patch(
      resources.pods,
      'p',
      'merge',
      { metadata: { finalizers: ['x'] } },
      { namespace: 'default' },
    );
    await client.delete(resources.pods, 'p', { namespace: 'default' });
    const deletes = () => client.actions.filter((a) => a.verb === 'delete' && a.name === 'p').length;
    await until(() => deletes() === 2, 'the hollow kubelet finishing the delete');
  } finally {
    await hollow.stop();
    abort.abort();
    await informers.stop();
  }
});
