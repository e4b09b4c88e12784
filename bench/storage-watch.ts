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

async function fanOut(name: string, store: Store, watchers: number): Promise<string> {
  const prefix = `/registry/fanout-${name}-${watchers}/`;
  const started = new Map<string, number>();
  const acked = new Map<string, number>();
  const received: Array<[string, number]> = [];
  const ac = new AbortController();
  const from = await store.currentRevision();
  const done = Array.from({ length: watchers }, async () => {
    let seen = 0;
    for await (const e of store.watch({ prefix, fromRevision: from, signal: ac.signal })) {
      received.push([e.kv.key, performance.now()]);
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
        acked.set(key, performance.now());
      }
    }),
  );
  await Promise.all(done);
  const seconds = (performance.now() - t0) / 1000;
  ac.abort();
  const sorted = (xs: number[]): number[] => xs.sort((x, y) => x - y);
  const fromStart = sorted(received.map(([k, t]) => t - started.get(k)!));
  // An event may arrive before its writer hears the acknowledgement: count that as 0.
  const fromAck = sorted(received.map(([k, t]) => Math.max(0, t - acked.get(k)!)));
  const p = (xs: number[], q: number): string => xs[Math.floor((xs.length - 1) * q)]!.toFixed(1).padStart(6);
  const label = `${name}, ${watchers} watcher${watchers > 1 ? 's' : ''}`.padEnd(20);
  return `${label} ${String(received.length).padStart(7)} in ${seconds.toFixed(2)} s   from write start p50 ${p(fromStart, 0.5)} p99 ${p(fromStart, 0.99)} ms   after ack p50 ${p(fromAck, 0.5)} p99 ${p(fromAck, 0.99)} ms`;
}

const dir = mkdtempSync(join(tmpdir(), 'drv-storage-bench-watch-'));
const etcd = await startEtcd();
try {
  console.log(`\n${watchers} watchers, ${count} creates from 4 clients`);
  const sqlite = new SqliteStore({ path: join(dir, 'state.db') });
  console.log(await fanOut('sqlite', sqlite, watchers));
  await sqlite.close();
  // One watcher on a fresh client: etcd's own delivery latency, the floor.
  const single = new EtcdStore({ endpoints: [etcd.endpoint] });
  console.log(await fanOut('etcd', single, 1));
  await single.close();
  const etcdStore = new EtcdStore({ endpoints: [etcd.endpoint] });
  console.log(await fanOut('etcd', etcdStore, watchers));
  await etcdStore.close();
} finally {
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
