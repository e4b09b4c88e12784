import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompactedError, type KeyValue, type Store, type WatchEvent, WatchLaggedError } from './store.ts';
import { collectEvents, readEvents } from './watch-reader.ts';

export interface CaseContext {
  open: (options?: { watchCapacity?: number }) => Promise<Store>;
  /** The store opened for the running case. */
  store: () => Store;
  /** The running case's key prefix. */
  prefix: () => string;
}

/**
 * The watch and compaction half of the conformance suite (see
 * conformance.ts); registered inside its describe block.
 */
export function describeWatchCases(ctx: CaseContext): void {
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
  const text = (kv: KeyValue | undefined): string | undefined =>
    kv === undefined ? undefined : new TextDecoder().decode(kv.value);

  test('watch replays history from a revision, then delivers live changes', async () => {
    const store = ctx.store();
    const p = ctx.prefix();
    const start = await store.currentRevision();
    const a = await store.create(`${p}a`, bytes('a1'));
    const b = await store.create(`${p}b`, bytes('b1'));
    const a2 = await store.update(`${p}a`, bytes('a2'), a.modRevision);
    await store.delete(`${p}b`);
    const ac = new AbortController();
    const events = readEvents(store.watch({ prefix: p, fromRevision: start, signal: ac.signal }));
    const replay = await events.take(4);
    assert.deepEqual(
      replay.map((e) => [e.type, e.kv.key, text(e.kv), text(e.prevKv)]),
      [
        ['put', `${p}a`, 'a1', undefined],
        ['put', `${p}b`, 'b1', undefined],
        ['put', `${p}a`, 'a2', 'a1'],
        ['delete', `${p}b`, 'b1', 'b1'],
      ],
    );
    assert.equal(replay[3]!.prevKv!.modRevision, b.modRevision);
    assertAscending(replay);
    const c = await store.create(`${p}c`, bytes('c1'));
    await store.update(`${p}a`, bytes('a3'), a2.modRevision);
    const live = await events.take(2);
    assert.deepEqual(
      live.map((e) => [e.type, e.kv.key, text(e.kv)]),
      [
        ['put', `${p}c`, 'c1'],
        ['put', `${p}a`, 'a3'],
      ],
    );
    assert.equal(live[0]!.kv.modRevision, c.modRevision);
    ac.abort();
    assert.deepEqual(await events.rest(), []);

    // Exclusive start: from a's update on, only later events.
    const tail = await collectEvents(store.watch({ prefix: p, fromRevision: a2.modRevision }), 3);
    assert.deepEqual(
      tail.map((e) => e.type + text(e.kv)),
      ['deleteb1', 'putc1', 'puta3'],
    );
  });

  test('watches started from many revisions during writes each see exactly the later events', async () => {
    const store = ctx.store();
    const p = ctx.prefix();
    const start = await store.currentRevision();
    const first: KeyValue[] = [];
    for (let i = 0; i < 10; i++) first.push(await store.create(`${p}first-${i}`, bytes(String(i))));
    const froms = [start, ...first.map((kv) => kv.modRevision)];
    const writing = (async () => {
      const out: KeyValue[] = [];
      for (let i = 0; i < 30; i++) out.push(await store.create(`${p}then-${i}`, bytes(String(i))));
      return out;
    })();
    // Each watch starts (and subscribes) now, while the writes go on.
    const readers = froms.map((from, i) => {
      const events = readEvents(store.watch({ prefix: p, fromRevision: from }));
      return { from, events, got: events.take(40 - i) };
    });
    const all = [...first, ...(await writing)].map((kv) => kv.modRevision);
    for (const { from, events, got } of readers) {
      assert.deepEqual(
        (await got).map((e) => e.kv.modRevision),
        all.filter((rev) => rev > from),
        `watch from ${from}`,
      );
      await events.stop();
    }
  });

  test('watch isolates prefixes (/a/ vs /ab/)', async () => {
    const store = ctx.store();
    const p = ctx.prefix();
    const start = await store.currentRevision();
    const ac = new AbortController();
    const events = readEvents(store.watch({ prefix: `${p}a/`, fromRevision: start, signal: ac.signal }));
    await store.create(`${p}ab/1`, bytes('no'));
    await store.create(`${p}a/1`, bytes('yes'));
    await store.create(`${p}ab/2`, bytes('no'));
    await store.create(`${p}a`, bytes('no'));
    await store.create(`${p}a/2`, bytes('yes'));
    const got = await events.take(2);
    assert.deepEqual(
      got.map((e) => e.kv.key),
      [`${p}a/1`, `${p}a/2`],
    );
    ac.abort();
    assert.deepEqual(await events.rest(), []);
  });

  test('progress notifications advance on a quiet prefix, in order with events', async () => {
    const store = ctx.store();
    const p = ctx.prefix();
    const start = await store.currentRevision();
    const progress: number[] = [];
    const ac = new AbortController();
    const events = readEvents(
      store.watch({
        prefix: `${p}quiet/`,
        fromRevision: start,
        signal: ac.signal,
        onProgress: (r) => progress.push(r),
      }),
    );
    // Progress is reported while the consumer waits for its next event.
    const quiet = events.take(1);
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await store.create(`${p}busy/${i}`, bytes('x'))).modRevision;
    await until(
      () => (progress.at(-1) ?? 0) >= last,
      `progress to reach ${last} (got ${progress.join(',')})`,
    );
    const q = await store.create(`${p}quiet/1`, bytes('q'));
    assert.equal((await quiet)[0]?.kv.modRevision, q.modRevision);
    assert.ok(
      progress.every((r) => r < q.modRevision),
      'no progress past an undelivered event',
    );
    const waiting = events.take(1).catch(() => []);
    const after = await store.create(`${p}busy/after`, bytes('x'));
    await until(() => (progress.at(-1) ?? 0) >= after.modRevision, 'progress after the quiet event');
    for (let i = 1; i < progress.length; i++)
      assert.ok(progress[i]! > progress[i - 1]!, 'progress only grows');
    ac.abort();
    await waiting;
  });

  test('compaction: old reads and watches get CompactedError, newer ones work', async () => {
    const store = ctx.store();
    const p = ctx.prefix();
    const first = await store.create(`${p}x`, bytes('1'));
    let kv = first;
    for (let i = 2; i <= 5; i++) kv = await store.update(`${p}x`, bytes(String(i)), kv.modRevision);
    await store.create(`${p}y`, bytes('y'));
    const r = kv.modRevision; // x = "5"
    await store.compact(r);
    await assert.rejects(store.list({ prefix: p, revision: r - 1 }), CompactedError);
    await assert.rejects(store.get(`${p}x`, { revision: first.modRevision }), CompactedError);
    assert.equal(text(await store.get(`${p}x`, { revision: r })), '5');
    const at = await store.list({ prefix: p, revision: r });
    assert.deepEqual(at.items.map(text), ['5']);
    await assert.rejects(collectEvents(store.watch({ prefix: p, fromRevision: r - 2 }), 1), CompactedError);
    const fromEdge = await collectEvents(store.watch({ prefix: p, fromRevision: r - 1 }), 2);
    assert.deepEqual(
      fromEdge.map((e) => text(e.kv)),
      ['5', 'y'],
    );
    // etcd cannot return the previous value of the event at the compaction point itself.
    if (fromEdge[0]!.prevKv !== undefined) assert.equal(text(fromEdge[0]!.prevKv), '4');
    await store.compact(r - 1); // at or below the compaction point: a no-op
    assert.equal(text(await store.get(`${p}x`)), '5');
  });

  test('a watcher that falls behind is cut off with WatchLaggedError; writers go on', async () => {
    const p = ctx.prefix();
    const small = await ctx.open({ watchCapacity: 20 });
    try {
      const start = await small.currentRevision();
      const it = small.watch({ prefix: p, fromRevision: start })[Symbol.asyncIterator]();
      const first = it.next();
      await small.create(`${p}first`, bytes('1'));
      assert.equal((await first).value?.kv.key, `${p}first`);
      // Nobody reads now; every write must still complete.
      for (let i = 0; i < 200; i++) await small.create(`${p}${i}`, bytes('x'));
      await assert.rejects(async () => {
        for (let n = 0; ; n++) {
          const r = await it.next();
          if (r.done) throw new Error(`the watch ended without an error after ${n} events`);
        }
      }, WatchLaggedError);
      assert.equal(await small.count(p), 201);
    } finally {
      await small.close();
    }
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waiting for ${what}: timed out`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function assertAscending(events: readonly WatchEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.kv.modRevision > events[i - 1]!.kv.modRevision, `event ${i} out of revision order`);
  }
}
