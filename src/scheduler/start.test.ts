import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClient, FakeClock, InformerFactory, type Lease, resources } from '../client/index.ts';
import { silentLogger } from '../lib/logger.ts';
import { node, pod } from './fixtures.ts';
import { startScheduler } from './start.ts';

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('two schedulers under leader election: only the leader binds; the other takes over on stop', async () => {
  const client = new FakeClient();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  client.seed(resources.nodes, node('n1'));
  const boundBy = new Map<string, string>();
  const abort = new AbortController();
  const start = (identity: string) => {
    const informers = new InformerFactory(client, { clock });
    const s = startScheduler({
      client,
      informers,
      log: silentLogger(),
      clock,
      leaderElection: { identity },
      tuning: { onBound: (p) => boundBy.set(p.metadata.name ?? '', identity) },
    });
    informers.start(abort.signal);
    return s;
  };
  const a = start('a');
  const lease = () => client.peek<Lease>(resources.leases, 'kube-system/default-scheduler');
  await until(() => lease()?.spec?.holderIdentity === 'a', 'a leads');
  const b = start('b');
  try {
    await client.create(resources.pods, pod('p1'));
    await until(() => boundBy.has('p1'), 'p1 bound');
    assert.equal(boundBy.get('p1'), 'a');
    await a.stop();
    assert.equal(lease()?.spec?.holderIdentity, '', 'released on stop');
    await clock.advance(2000);
    await until(() => lease()?.spec?.holderIdentity === 'b', 'b leads');
    await client.create(resources.pods, pod('p2'));
    await until(() => boundBy.has('p2'), 'p2 bound');
    assert.equal(boundBy.get('p2'), 'b');
  } finally {
    await a.stop();
    await b.stop();
    abort.abort();
  }
});

test('without leader election the scheduler runs at once; pods for other schedulers are ignored', async () => {
  const client = new FakeClient();
  client.seed(resources.nodes, node('n1'));
  const informers = new InformerFactory(client);
  const abort = new AbortController();
  const s = startScheduler({ client, informers, log: silentLogger(), schedulerName: 'custom' });
  informers.start(abort.signal);
  try {
    await client.create(resources.pods, pod('mine', { spec: { schedulerName: 'custom', containers: [] } }));
    await client.create(resources.pods, pod('default'));
    const nodeOf = (n: string) =>
      client.peek<ReturnType<typeof pod>>(resources.pods, `default/${n}`)?.spec?.nodeName;
    await until(() => nodeOf('mine') === 'n1', 'custom pod bound');
    assert.equal(nodeOf('default'), undefined);
  } finally {
    await s.stop();
    abort.abort();
  }
});
