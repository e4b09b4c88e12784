import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { CompactedError, type KeyValue, type Store, type WatchEvent, WatchLaggedError } from './store.ts';
import { collectEvents, readEvents } from './watch-reader.ts';

/**
 * The one test suite every Store backend must pass. Each case opens a store
 * through `open` and works under its own key prefix, so backends whose data
 * outlives one case (a shared etcd) can reuse one server. Cases never assume
 * absolute revision numbers, only their order.
 */
export function describeStoreConformance(
  name: string,
  open: (options?: { watchCapacity?: number }) => Promise<Store>,
): void {
  describe(`storage conformance: ${name}`, () => {
    let store: Store;
    let p: string;
    let seq = 0;
    beforeEach(async () => {
      store = await open();
      p = `/conformance/${Date.now().toString(36)}-${seq++}/`;
    });
    afterEach(async () => {
      await store.close();
    });

    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    const text = (kv: KeyValue | undefined): string | undefined =>
      kv === undefined ? undefined : new TextDecoder().decode(kv.value);

    test('create, get, update, delete', async () => {
      const before = await store.currentRevision();
      const created = await store.create(`${p}a`, bytes('one'));
      assert.ok(created.modRevision > before);
      assert.equal(created.createRevision, created.modRevision);
      assert.equal(created.version, 1);
      assert.equal(await store.currentRevision(), created.modRevision);
      assert.deepEqual(text(await store.get(`${p}a`)), 'one');
      await assert.rejects(store.create(`${p}a`, bytes('again')), AlreadyExistsError);

      const updated = await store.update(`${p}a`, bytes('two'), created.modRevision);
      assert.ok(updated.modRevision > created.modRevision);
      assert.equal(updated.createRevision, created.createRevision);
      assert.equal(updated.version, 2);
      const got = await store.get(`${p}a`);
      assert.equal(text(got), 'two');
      assert.equal(got?.modRevision, updated.modRevision);
      assert.equal(text(await store.get(`${p}a`, { revision: created.modRevision })), 'one');

      const deleted = await store.delete(`${p}a`);
      assert.ok(deleted.modRevision > updated.modRevision);
      assert.equal(text(deleted), 'two');
      assert.equal(deleted.version, 2);
      assert.equal(await store.get(`${p}a`), undefined);
      assert.equal(text(await store.get(`${p}a`, { revision: updated.modRevision })), 'two');
      await assert.rejects(store.update(`${p}a`, bytes('x'), deleted.modRevision), NotFoundError);
      await assert.rejects(store.delete(`${p}a`), NotFoundError);

      const again = await store.create(`${p}a`, bytes('three'));
      assert.equal(again.version, 1);
      assert.equal(again.createRevision, again.modRevision);
    });

    test('reads beyond the current revision are invalid', async () => {
      const kv = await store.create(`${p}a`, bytes('1'));
      const future = (await store.currentRevision()) + 1000;
      await assert.rejects(store.list({ prefix: p, revision: future }), InvalidError);
      await assert.rejects(store.get(`${p}a`, { revision: future }), InvalidError);
      assert.equal(text(await store.get(`${p}a`, { revision: kv.modRevision })), '1');
    });

    test('compare-and-swap conflicts', async () => {
      const v1 = await store.create(`${p}k`, bytes('1'));
      const v2 = await store.update(`${p}k`, bytes('2'), v1.modRevision);
      await assert.rejects(store.update(`${p}k`, bytes('stale'), v1.modRevision), ConflictError);
      await assert.rejects(store.delete(`${p}k`, v1.modRevision), ConflictError);
      assert.equal(text(await store.get(`${p}k`)), '2');
      await assert.rejects(store.update(`${p}missing`, bytes('x'), v1.modRevision), NotFoundError);
      const d = await store.delete(`${p}k`, v2.modRevision);
      assert.equal(text(d), '2');
    });

    test('list: key order, prefix isolation, limit and continue, count', async () => {
      for (const k of ['b', 'a', 'c', 'd', 'e']) await store.create(`${p}a/${k}`, bytes(k));
      await store.create(`${p}ab/x`, bytes('other'));
      await store.create(`${p}a`, bytes('the prefix itself, without slash'));
      const all = await store.list({ prefix: `${p}a/` });
      assert.deepEqual(
        all.items.map((kv) => kv.key),
        ['a', 'b', 'c', 'd', 'e'].map((k) => `${p}a/${k}`),
      );
      assert.equal(all.more, false);
      assert.equal(all.revision, await store.currentRevision());
      assert.equal(await store.count(`${p}a/`), 5);
      assert.equal(await store.count(`${p}a`), 7);

      const page1 = await store.list({ prefix: `${p}a/`, limit: 2 });
      assert.deepEqual(page1.items.map(text), ['a', 'b']);
      assert.equal(page1.more, true);
      if (page1.remaining !== undefined) assert.equal(page1.remaining, 3);
      const page2 = await store.list({ prefix: `${p}a/`, limit: 2, continueKey: page1.items.at(-1)!.key });
      assert.deepEqual(page2.items.map(text), ['c', 'd']);
      assert.equal(page2.more, true);
      const page3 = await store.list({ prefix: `${p}a/`, limit: 2, continueKey: page2.items.at(-1)!.key });
      assert.deepEqual(page3.items.map(text), ['e']);
      assert.equal(page3.more, false);
      assert.deepEqual((await store.list({ prefix: `${p}none/` })).items, []);
    });

    test('pagination reads one snapshot across concurrent writes', async () => {
      const names = Array.from({ length: 10 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      const originals = new Map<string, KeyValue>();
      for (const n of names) originals.set(n, await store.create(`${p}${n}`, bytes(`v-${n}`)));
      const first = await store.list({ prefix: p, limit: 3 });
      const seen = [...first.items];
      // Writes between pages: insert, update, delete, all inside the listed range.
      await store.create(`${p}k015`, bytes('inserted'));
      await store.update(`${p}k05`, bytes('changed'), originals.get('k05')!.modRevision);
      await store.delete(`${p}k07`);
      let page = first;
      while (page.more) {
        page = await store.list({
          prefix: p,
          limit: 3,
          continueKey: page.items.at(-1)!.key,
          revision: first.revision,
        });
        assert.equal(page.revision, first.revision);
        seen.push(...page.items);
      }
      assert.deepEqual(
        seen.map((kv) => kv.key),
        names.map((n) => `${p}${n}`),
      );
      assert.deepEqual(
        seen.map(text),
        names.map((n) => `v-${n}`),
      );
      assert.deepEqual(
        seen.map((kv) => kv.modRevision),
        names.map((n) => originals.get(n)!.modRevision),
      );
      const now = await store.list({ prefix: p });
      assert.equal(now.items.length, 10);
      assert.equal(text(now.items.find((kv) => kv.key === `${p}k05`)), 'changed');
    });

    test('watch replays history from a revision, then delivers live changes', async () => {
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

    test('concurrent creates of one key: exactly one wins', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.create(`${p}race`, bytes(String(i)))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
      }
      const kv = await store.get(`${p}race`);
      assert.equal(text(kv), text((won[0] as PromiseFulfilledResult<KeyValue>).value));
    });

    test('concurrent compare-and-swap increments lose no update', async () => {
      await store.create(`${p}counter`, bytes('0'));
      const increment = async (): Promise<void> => {
        for (;;) {
          const kv = (await store.get(`${p}counter`))!;
          try {
            await store.update(`${p}counter`, bytes(String(Number(text(kv)) + 1)), kv.modRevision);
            return;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
          }
        }
      };
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 5; i++) await increment();
        }),
      );
      const kv = await store.get(`${p}counter`);
      assert.equal(text(kv), '40');
      assert.equal(kv?.version, 41);
    });

    test('a watcher that falls behind is cut off with WatchLaggedError; writers go on', async () => {
      const small = await open({ watchCapacity: 20 });
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

    test('many concurrent writers: unique ordered revisions, every event watched once', async () => {
      const start = await store.currentRevision();
      const writers = 16;
      const each = 20;
      const ac = new AbortController();
      const events = readEvents(store.watch({ prefix: p, fromRevision: start, signal: ac.signal }));
      const written = (
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            const out: KeyValue[] = [];
            for (let i = 0; i < each; i++) {
              const kv = await store.create(`${p}w${w}/${i}`, bytes(`${w}-${i}`));
              out.push(await store.update(kv.key, bytes(`${w}-${i}-u`), kv.modRevision));
            }
            return out;
          }),
        )
      ).flat();
      const revisions = new Set(written.map((kv) => kv.modRevision));
      assert.equal(revisions.size, writers * each);
      assert.equal(await store.count(p), writers * each);
      const got = await events.take(writers * each * 2);
      ac.abort();
      assertAscending(got);
      assert.equal(new Set(got.map((e) => e.kv.modRevision)).size, got.length);
      for (const kv of written) {
        const e = got.find((x) => x.kv.modRevision === kv.modRevision);
        assert.equal(e?.kv.key, kv.key);
        assert.equal(text(e?.kv), text(kv));
      }
      assert.ok(Math.max(...revisions) <= (await store.currentRevision()));
    });
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waiting for ${what}: timed out`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function assertAscending(events: readonly WatchEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.kv.modRevision > events[i - 1]!.kv.modRevision, `event ${i} out of revision order`);
  }
}
