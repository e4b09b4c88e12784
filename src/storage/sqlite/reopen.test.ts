import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { CompactedError } from '../store.ts';
import { collectEvents } from '../watch-reader.ts';
import { SqliteStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'drv-storage-sqlite-reopen-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (v: Uint8Array | undefined): string | undefined => (v ? new TextDecoder().decode(v) : undefined);

function rowIds(path: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT id FROM kv ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  } finally {
    db.close();
  }
}

test('compaction deletes superseded rows; revision, data and compaction point survive reopening', async () => {
  const path = join(dir, 'state.db');
  let store = new SqliteStore({ path });
  const a = await store.create('/k/a', b('a1')); // 1
  await store.create('/k/b', b('b1')); // 2
  const a2 = await store.update('/k/a', b('a2'), a.modRevision); // 3
  await store.delete('/k/b'); // 4
  await store.create('/k/c', b('c1')); // 5

  await store.compact(4);
  await store.close();
  // 1 and 2 were superseded by rows at or below 4; the deletion at 4 stays for a watch from 3.
  assert.deepEqual(rowIds(path), [3, 4, 5]);
  store = new SqliteStore({ path });
  await store.compact(5);
  await store.close();
  assert.deepEqual(rowIds(path), [3, 5]);

  store = new SqliteStore({ path });
  try {
    assert.equal(await store.currentRevision(), 5);
    await assert.rejects(store.get('/k/a', { revision: 4 }), CompactedError);
    assert.equal(text((await store.get('/k/a'))?.value), 'a2');
    assert.equal((await store.get('/k/a'))?.modRevision, a2.modRevision);
    assert.equal(await store.get('/k/b'), undefined);
    assert.deepEqual(
      (await store.list({ prefix: '/k/' })).items.map((kv) => kv.key),
      ['/k/a', '/k/c'],
    );
    await assert.rejects(collectEvents(store.watch({ prefix: '/k/', fromRevision: 3 }), 1), CompactedError);
    const events = await collectEvents(store.watch({ prefix: '/k/', fromRevision: 4 }), 1);
    assert.equal(events[0]?.kv.key, '/k/c');
    const d = await store.create('/k/d', b('d1'));
    assert.equal(d.modRevision, 6, 'revisions continue after reopening');
  } finally {
    await store.close();
  }
});

test('revisions continue after reopening a store whose keys were all deleted and compacted', async () => {
  const path = join(dir, 'tombstone.db');
  let store = new SqliteStore({ path });
  await store.create('/t/x', b('1')); // 1
  await store.delete('/t/x'); // 2
  await store.create('/t/y', b('2')); // 3
  await store.delete('/t/y'); // 4
  await store.compact(4);
  await store.close();
  store = new SqliteStore({ path });
  try {
    assert.equal(await store.currentRevision(), 4);
    assert.equal((await store.create('/t/x', b('again'))).modRevision, 5);
  } finally {
    await store.close();
  }
});

test('a second process cannot open a store in use', async () => {
  const path = join(dir, 'exclusive.db');
  const store = new SqliteStore({ path });
  try {
    await store.create('/x', b('1'));
    const other = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { SqliteStore } from ${JSON.stringify(new URL('./store.ts', import.meta.url).href)};
         try { new SqliteStore({ path: process.argv[1] }); console.log('opened'); }
         catch (err) { console.log(err.name + ': ' + err.message); }`,
        path,
      ],
      { encoding: 'utf8' },
    );
    assert.match(other.stdout, /UnavailableError: .*in use by another process/);
    assert.equal(text((await store.get('/x'))?.value), '1');
  } finally {
    await store.close();
  }
  const reopened = new SqliteStore({ path });
  assert.equal(await reopened.currentRevision(), 1);
  await reopened.close();
});
