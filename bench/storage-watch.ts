/**
 * Storage watch fan-out: 100 watchers on one prefix while 4 clients create
 * 2,000 small keys; for every (watcher, event) pair, the time from the start of
 * the write to the watcher receiving it. SQLite and etcd backends side by side.
 * Target (issue 4, at the API level): every watcher within 50 ms p99.
 *
 *   node bench/storage-watch.ts [--watchers 100] [--count 2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEtcd } from '../src/storage/etcd/etcd-process.ts';
import { EtcdStore } from '../src/storage/etcd/store.ts';
import { SqliteStore } from '../src/storage/sqlite/store.ts';
import type { Store } from '../src/storage/store.ts';

const { values: args } = parseArgs({
  options: { watchers: { type: 'string', default: '100' }, count: { type: 'string', default: '2000' } },
});
const watchers = Number(args.watchers);
const count = Number(args.count);
const value = new Uint8Array(300).fill(120);

async function fanOut(name: string, store: Store): Promise<string> {
  const prefix = `/registry/fanout-${name}/`;
  const started = new Map<string, number>();
  const delays: number[] = [];
  const ac = new AbortController();
  const from = await store.currentRevision();
  const done = Array.from({ length: watchers }, async () => {
    let seen = 0;
    for await (const e of store.watch({ prefix, fromRevision: from, signal: ac.signal })) {
      delays.push(performance.now() - started.get(e.kv.key)!);
      if (++seen === count) return;
    }
  });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const key = `${prefix}k-${next++}`;
        started.set(key, performance.now());
        await store.create(key, value);
      }
    }),
  );
  await Promise.all(done);
  const seconds = (performance.now() - t0) / 1000;
  ac.abort();
  delays.sort((a, b) => a - b);
  const p = (q: number): string => delays[Math.floor((delays.length - 1) * q)]!.toFixed(1).padStart(7);
  return `${name.padEnd(8)} ${String(delays.length).padStart(8)} deliveries in ${seconds.toFixed(2)} s   write-to-watcher p50 ${p(0.5)} ms   p99 ${p(0.99)} ms   max ${p(1)} ms`;
}

const dir = mkdtempSync(join(tmpdir(), 'drv-storage-bench-watch-'));
const etcd = await startEtcd();
try {
  console.log(`\n${watchers} watchers, ${count} creates from 4 clients`);
  const sqlite = new SqliteStore({ path: join(dir, 'state.db') });
  console.log(await fanOut('sqlite', sqlite));
  await sqlite.close();
  const etcdStore = new EtcdStore({ endpoints: [etcd.endpoint] });
  console.log(await fanOut('etcd', etcdStore));
  await etcdStore.close();
} finally {
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
