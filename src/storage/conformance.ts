import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { assertAscending, describeWatchCases } from './conformance-watch.ts';
import type { KeyValue, Store } from './store.ts';
import { readEvents } from './watch-reader.ts';

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
    describeWatchCases({
      open,
      store: () => store,
      prefix: () => p,
    });
  });
}
