import assert from 'node:assert/strict';
import test from 'node:test';
import { UnavailableError } from '../lib/errors.ts';
import { FakeClock, flush } from './clock.ts';
import { FakeClient } from './fake-client.ts';
import { LeaderElector } from './leader-election.ts';
import type { Lease } from './objects.ts';
import { resources } from './resources.ts';

const lease = { namespace: 'kube-system', name: 'drover-scheduler' };

interface Candidate {
  elector: LeaderElector;
  events: string[];
  stop: AbortController;
  done: Promise<void>;
}

function candidate(client: FakeClient, clock: FakeClock, identity: string): Candidate {
  const events: string[] = [];
  const elector = new LeaderElector({
    client,
    clock,
    lease,
    identity,
    onStartedLeading: (signal) => {
      events.push('started');
      signal.addEventListener('abort', () => events.push('leading-signal-aborted'));
    },
    onStoppedLeading: () => events.push('stopped'),
  });
  const stop = new AbortController();
  return { elector, events, stop, done: elector.run(stop.signal) };
}

const holder = (f: FakeClient) =>
  f.peek<Lease>(resources.leases, `${lease.namespace}/${lease.name}`)?.spec?.holderIdentity;

test('one of two candidates leads; the other takes over when the leader releases', async () => {
  const f = new FakeClient();
  const clock = new FakeClock(1_000_000);
  const a = candidate(f, clock, 'a');
  await flush();
  const b = candidate(f, clock, 'b');
  await clock.advance(10_000);
  assert.equal(a.elector.isLeader(), true);
  assert.equal(b.elector.isLeader(), false);
  assert.equal(b.elector.leader, 'a');
  assert.equal(holder(f), 'a');
  a.stop.abort();
  await a.done;
  assert.deepEqual(a.events, ['started', 'leading-signal-aborted', 'stopped']);
  assert.equal(holder(f), '', 'released on cancel');
  await clock.advance(2_000);
  assert.equal(b.elector.isLeader(), true, 'takes the released lease at its next retry');
  const l = f.peek<Lease>(resources.leases, 'kube-system/drover-scheduler');
  assert.equal(l?.spec?.leaseTransitions, 1);
  b.stop.abort();
  await b.done;
});

test('a leader that cannot renew steps down after renewDeadline; a stale lease is taken after leaseDuration', async () => {
  const f = new FakeClient();
  const clock = new FakeClock(1_000_000);
  let partitioned = false;
  f.addReactor((action) => {
    if (partitioned && action.verb === 'update') throw new UnavailableError('partitioned');
  });
  const a = candidate(f, clock, 'a');
  await clock.advance(1);
  assert.equal(a.elector.isLeader(), true);
  partitioned = true;
  await clock.advance(8_000);
  assert.equal(a.elector.isLeader(), true, 'still within the renew deadline');
  await clock.advance(2_000);
  await a.done;
  assert.equal(a.elector.isLeader(), false);
  assert.deepEqual(a.events, ['started', 'leading-signal-aborted', 'stopped']);
  partitioned = false;
  const b = candidate(f, clock, 'b');
  await clock.advance(14_000);
  assert.equal(
    b.elector.isLeader(),
    false,
    'the lease is honoured for leaseDuration from when b first saw it',
  );
  await clock.advance(2_000);
  assert.equal(b.elector.isLeader(), true);
  assert.equal(holder(f), 'b');
  b.stop.abort();
  await b.done;
});
