import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { SqliteStore } from '../src/storage/sqlite/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'drv-storage-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The writer: 16 concurrent clients creating keys as fast as they can; it
// prints "key revision" for each create only after the store acknowledged it.
const writer = `
import { SqliteStore } from ${JSON.stringify(new URL('../src/storage/sqlite/store.ts', import.meta.url).href)};
const store = new SqliteStore({ path: process.argv[1] });
const value = new Uint8Array(300).fill(120);
let n = 0;
await Promise.all(Array.from({ length: 16 }, async (_, w) => {
  for (;;) {
    const kv = await store.create('/registry/configmaps/default/w' + w + '-' + n++, value);
    process.stdout.write(kv.key + ' ' + kv.modRevision + '\\n');
  }
}));
`;

test('kill -9 under a stream of creates loses no acknowledged write', async () => {
  const path = join(dir, 'state.db');
  const child = spawn(process.execPath, ['--input-type=module', '-e', writer, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const acked = new Map<string, number>();
  try {
    const lines = createInterface({ input: child.stdout });
    const deadline = Date.now() + 30_000;
    for await (const line of lines) {
      const [key, rev] = line.split(' ');
      acked.set(key!, Number(rev));
      // Kill mid-stream, well after the writer is warm.
      if (acked.size >= 3000) {
        child.kill('SIGKILL');
        break;
      }
      assert.ok(Date.now() < deadline, `only ${acked.size} acknowledged writes in 30 s`);
    }
    // Lines already in the pipe when the kill landed were acknowledged too.
    for await (const line of lines) {
      const [key, rev] = line.split(' ');
      acked.set(key!, Number(rev));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  assert.equal(child.signalCode, 'SIGKILL');

  const store = new SqliteStore({ path });
  try {
    const missing: string[] = [];
    for (const [key, rev] of acked) {
      const kv = await store.get(key);
      if (kv?.modRevision !== rev) missing.push(`${key}@${rev}`);
    }
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.size} acknowledged writes lost`);
    const max = Math.max(...acked.values());
    const current = await store.currentRevision();
    assert.ok(current >= max, `recovered revision ${current} is below the acknowledged ${max}`);
    const next = await store.create('/registry/configmaps/default/after-recovery', new Uint8Array([1]));
    assert.equal(next.modRevision, current + 1);
    const listed = await store.list({ prefix: '/registry/configmaps/default/' });
    // Every revision was a create of a distinct key, acknowledged or not yet.
    assert.equal(listed.items.length, current + 1);
  } finally {
    await store.close();
  }
});
