import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../client/index.ts';
import { pod } from './fixtures.ts';
import { less } from './plugins/priority-sort.ts';
import { type QueuedPod, SchedulingQueue } from './queue.ts';

function queue(clock: FakeClock): SchedulingQueue {
  const pluginEvents = new Map([
    ['NodeResourcesFit', ['NodeAdd', 'PodDelete'] as const],
    ['TaintToleration', ['NodeAdd', 'NodeUpdate'] as const],
  ]);
  return new SchedulingQueue({ less, pluginEvents, clock });
}

async function popNow(q: SchedulingQueue): Promise<QueuedPod | undefined> {
  const { active } = q.length;
  return active ? q.pop() : undefined;
}

test('activeQ pops by priority, then by age', async () => {
  const clock = new FakeClock(0);
  const q = queue(clock);
  q.add(pod('low', { priority: 1 }));
  await clock.advance(1);
  q.add(pod('high', { priority: 100 }));
  await clock.advance(1);
  q.add(pod('low2', { priority: 1 }));
  const order = [];
  for (let p = await popNow(q); p; p = await popNow(q)) order.push(p.pod.metadata.name);
  assert.deepEqual(order, ['high', 'low', 'low2']);
  q.close();
});

test('pop waits for the next pod; close releases waiters', async () => {
  const q = queue(new FakeClock(0));
  const waiting = q.pop();
  q.add(pod('p'));
  assert.equal((await waiting)?.key, 'default/p');
  const again = q.pop();
  q.close();
  assert.equal(await again, undefined);
});

test('back-off doubles per attempt from 1 s and is capped at 10 s', async () => {
  const clock = new FakeClock(0);
  const q = queue(clock);
  q.add(pod('p'));
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const qp = (await q.pop())!;
    const start = clock.now();
    q.requeueBackoff(qp);
    while (!q.length.active) {
      await clock.advance(500);
    }
    waits.push(clock.now() - start);
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10000, 10000]);
  q.close();
});

test('unschedulable pods come back only on events their rejecting plugins care about', async () => {
  const clock = new FakeClock(0);
  const q = queue(clock);
  q.add(pod('cpu'));
  q.add(pod('taint'));
  const a = (await q.pop())!;
  const b = (await q.pop())!;
  q.requeueUnschedulable(a, ['NodeResourcesFit']);
  q.requeueUnschedulable(b, ['TaintToleration']);
  await clock.advance(20_000); // back-off long over
  q.moveAll('PodDelete');
  assert.deepEqual(q.length, { active: 1, backoff: 0, unschedulable: 1 });
  assert.equal((await q.pop())?.key, a.key);
  q.moveAll('NodeUpdate');
  assert.equal((await q.pop())?.key, b.key);
  q.close();
});

test('an event during the cycle sends the pod to back-off, not to unschedulable', async () => {
  const clock = new FakeClock(0);
  const q = queue(clock);
  q.add(pod('p'));
  const qp = (await q.pop())!;
  q.moveAll('NodeAdd'); // arrives while the pod is being scheduled
  q.requeueUnschedulable(qp, ['NodeResourcesFit']);
  assert.deepEqual(q.length, { active: 0, backoff: 1, unschedulable: 0 });
  q.close();
});

test('the periodic flush retries pods unschedulable for 5 minutes', async () => {
  const clock = new FakeClock(0);
  const q = queue(clock);
  q.add(pod('p'));
  q.requeueUnschedulable((await q.pop())!, ['NodeResourcesFit']);
  await clock.advance(270_000);
  assert.equal(q.length.unschedulable, 1);
  await clock.advance(60_000);
  assert.deepEqual(q.length, { active: 1, backoff: 0, unschedulable: 0 });
  q.close();
});

test('a pod in flight is not queued twice; delete removes it everywhere', async () => {
  const q = queue(new FakeClock(0));
  q.add(pod('p'));
  const qp = (await q.pop())!;
  q.add(pod('p'));
  assert.equal(q.length.active, 0);
  q.done(qp.key);
  q.add(pod('p'));
  assert.equal(q.length.active, 1);
  q.delete('default/p');
  assert.deepEqual(q.length, { active: 0, backoff: 0, unschedulable: 0 });
  q.close();
});
