import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnavailableError } from '../src/lib/errors.ts';
import { startEtcd } from '../src/storage/etcd/etcd-process.ts';
import { EtcdStore } from '../src/storage/etcd/store.ts';
import { readEvents } from '../src/storage/watch-reader.ts';

test('when etcd goes away, watches end and requests fail with UnavailableError', async () => {
  const etcd = await startEtcd();
  const store = new EtcdStore({ endpoints: [etcd.endpoint] });
  try {
    const from = await store.currentRevision();
    const events = readEvents(store.watch({ prefix: '/f/', fromRevision: from }));
    const first = events.take(1);
    await store.create('/f/a', new Uint8Array([1]));
    assert.equal((await first)[0]?.kv.key, '/f/a');
    const ended = events.take(1, 30_000).then(
      () => undefined,
      (err: unknown) => err,
    );
    await etcd.stop();
    const err = await ended;
    assert.ok(err instanceof UnavailableError, `watch ended with ${String(err)}`);
    const started = Date.now();
    await assert.rejects(store.create('/f/b', new Uint8Array([2])), UnavailableError);
    await assert.rejects(store.list({ prefix: '/f/' }), UnavailableError);
    assert.ok(Date.now() - started < 20_000, 'requests fail promptly');
  } finally {
    await store.close();
    await etcd.stop();
  }
});
