import assert from 'node:assert/strict';
import test from 'node:test';
import { FakeClock, flush } from './clock.ts';
import { BucketRateLimiter, ExponentialRateLimiter, MaxOfRateLimiter } from './rate-limiter.ts';
import { runWorkers, Workqueue } from './workqueue.ts';

const noLimit = () => new ExponentialRateLimiter<string>(5, 1_000_000);

test('exponential limiter doubles from 5 ms and caps at 1000 s', () => {
  const l = new ExponentialRateLimiter<string>();
  const got = Array.from({ length: 5 }, () => l.when('a'));
  assert.deepEqual(got, [5, 10, 20, 40, 80]);
  for (let i = 0; i < 40; i++) l.when('a');
  assert.equal(l.when('a'), 1_000_000);
  assert.equal(l.when('b'), 5, 'items back off independently');
  l.forget('a');
  assert.equal(l.numRequeues('a'), 0);
  assert.equal(l.when('a'), 5);
});

test('bucket limiter allows a burst then spaces items by 1/qps', () => {
  const clock = new FakeClock();
  const l = new BucketRateLimiter<string>({ qps: 10, burst: 3, clock });
  assert.deepEqual([l.when('a'), l.when('b'), l.when('c')], [0, 0, 0]);
  assert.equal(l.when('d'), 100);
  assert.equal(l.when('e'), 200);
  const max = new MaxOfRateLimiter<string>(new ExponentialRateLimiter<string>(), l);
  assert.equal(max.when('x'), 300, 'the larger of the two delays');
});

const cases: { name: string; want: string[]; run: (q: Workqueue<string>) => Promise<string[]> }[] = [
  {
    name: 'adding an item twice queues it once',
    want: ['2'],
    run: async (q) => {
      q.add('a');
      q.add('b');
      q.add('a');
      return [String(q.length)];
    },
  },
  {
    name: 'an item added while processing is handed out again only after done',
    want: ['a', '0', '1'],
    run: async (q) => {
      q.add('a');
      const first = await q.get();
      q.add('a');
      const lenWhileProcessing = q.length;
      q.done(first ?? '');
      return [first ?? '', String(lenWhileProcessing), String(q.length)];
    },
  },
  {
    name: 'get waits for an add',
    want: ['late'],
    run: async (q) => {
      const p = q.get();
      q.add('late');
      return [(await p) ?? 'none'];
    },
  },
  {
    name: 'shutDown releases idle getters and drains queued items first',
    want: ['a', 'undefined'],
    run: async (q) => {
      q.add('a');
      q.shutDown();
      q.add('b');
      const got = [await q.get(), await q.get()];
      return got.map((x) => x ?? 'undefined');
    },
  },
];
for (const tc of cases) {
  test(tc.name, async () => {
    const q = new Workqueue<string>({ rateLimiter: noLimit(), clock: new FakeClock() });
    assert.deepEqual(await tc.run(q), tc.want);
  });
}

test('addAfter keeps the earliest time and fires on the clock', async () => {
  const clock = new FakeClock();
  const q = new Workqueue<string>({ rateLimiter: noLimit(), clock });
  q.addAfter('a', 100);
  q.addAfter('a', 50);
  q.addAfter('a', 500);
  await clock.advance(49);
  assert.equal(q.length, 0);
  await clock.advance(1);
  assert.equal(q.length, 1);
  await clock.advance(1000);
  assert.equal(q.length, 1, 'later timers for the same item were dropped');
  q.shutDown();
  assert.equal(clock.pending, 0);
});

test('runWorkers retries failures with growing back-off and forgets on success', async () => {
  const clock = new FakeClock();
  const q = new Workqueue<string>({ rateLimiter: noLimit(), clock });
  const calls: number[] = [];
  let failuresLeft = 3;
  const ac = new AbortController();
  const done = runWorkers(
    q,
    2,
    async (key) => {
      calls.push(clock.now());
      if (key === 'x' && failuresLeft-- > 0) throw new Error('boom');
    },
    { signal: ac.signal },
  );
  q.add('x');
  await flush();
  await clock.advance(5);
  await clock.advance(10);
  await clock.advance(20);
  assert.deepEqual(calls, [0, 5, 15, 35], 'retried after 5, 10 and 20 ms');
  assert.equal(q.numRequeues('x'), 0, 'success forgets the back-off');
  ac.abort();
  await done;
});

test('runWorkers never hands one key to two workers at once', async () => {
  const q = new Workqueue<string>({ rateLimiter: noLimit(), clock: new FakeClock() });
  let inFlight = 0;
  let maxInFlight = 0;
  let runs = 0;
  const ac = new AbortController();
  const done = runWorkers(
    q,
    4,
    async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      runs++;
      if (runs < 3) q.add('k');
      await flush();
      inFlight--;
    },
    { signal: ac.signal },
  );
  q.add('k');
  q.add('k');
  const deadline = Date.now() + 2000;
  while (runs < 3 && Date.now() < deadline) await flush();
  ac.abort();
  await done;
  assert.equal(runs, 3);
  assert.equal(maxInFlight, 1);
});

test('FIFO order holds across the internal compaction of a long queue', async () => {
  const q = new Workqueue<number>({
    rateLimiter: new ExponentialRateLimiter<number>(),
    clock: new FakeClock(),
  });
  const got: number[] = [];
  for (let i = 0; i < 3000; i++) q.add(i);
  for (let i = 0; i < 2000; i++) {
    const k = (await q.get()) ?? -1;
    got.push(k);
    q.done(k);
  }
  for (let i = 3000; i < 3500; i++) q.add(i);
  while (q.length > 0) got.push((await q.get()) ?? -1);
  assert.deepEqual(
    got,
    Array.from({ length: 3500 }, (_, i) => i),
  );
});
