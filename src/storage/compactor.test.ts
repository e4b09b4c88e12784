import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compactor } from './compactor.ts';
import { MemoryStore } from './memory.ts';
import { CompactedError } from './store.ts';

async function writeN(store: MemoryStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await store.create(`/c/${(await store.currentRevision()) + 1}`, new Uint8Array([1]));
}

test('compactor keeps one interval and the newest revisions', async () => {
  const store = new MemoryStore();
  const compactor = new Compactor(store, { retainRevisions: 100 });
  await writeN(store, 10);
  assert.equal(await compactor.tick(), undefined, 'the first tick only records the revision');
  await writeN(store, 500);
  assert.equal(await compactor.tick(), 10, 'compacts to what the previous tick saw');
  await assert.rejects(store.list({ prefix: '/c/', revision: 9 }), CompactedError);
  assert.equal((await store.list({ prefix: '/c/', revision: 10 })).items.length, 10);
  assert.equal(await compactor.tick(), 410, 'but keeps the newest 100 revisions');
  await writeN(store, 20);
  assert.equal(await compactor.tick(), 430);
  assert.equal((await store.list({ prefix: '/c/', revision: 430 })).items.length, 430);
  await store.close();
});

test('compactor with few writes leaves history alone', async () => {
  const store = new MemoryStore();
  const compactor = new Compactor(store, { retainRevisions: 1000 });
  await writeN(store, 50);
  await compactor.tick();
  await writeN(store, 50);
  assert.equal(await compactor.tick(), undefined);
  assert.equal((await store.list({ prefix: '/c/', revision: 1 })).items.length, 1);
  await store.close();
});
