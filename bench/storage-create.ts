/**
 * Storage create and list benchmark: 10,000 small (~300-byte) creates with 16
 * concurrent clients on the SQLite and etcd backends, beside raw etcd puts of
 * the same bytes through the same etcd3 client (the floor for the etcd
 * backend); then LIST of the 10,000 keys, whole and in pages of 500.
 *
 *   node bench/storage-create.ts [--count 10000] [--clients 16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../src/storage/etcd/etcd-process.ts';
import { EtcdStore } from '../src/storage/etcd/store.ts';
import { SqliteStore } from '../src/storage/sqlite/store.ts';
import type { Store } from '../src/storage/store.ts';

const { values: args } = parseArgs({
  options: { count: { type: 'string', default: '10000' }, clients: { type: 'string', default: '16' } },
});
const count = Number(args.count);
const clients = Number(args.clients);

interface Run {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
}

function configMap(i: number): Uint8Array {
  const cm = {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: {
      name: `bench-${i}`,
      namespace: 'default',
      uid: crypto.randomUUID(),
      labels: { app: 'bench' },
    },
    data: { 'config.yaml': 'x'.repeat(120) },
  };
  return new TextEncoder().encode(JSON.stringify(cm));
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function drive(name: string, write: (i: number) => Promise<unknown>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await write(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: count / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

async function timeLists(name: string, store: Store, prefix: string): Promise<string[]> {
  const rows: string[] = [];
  for (const limit of [0, 500]) {
    const times: number[] = [];
    for (let round = 0; round < 20; round++) {
      const t = performance.now();
      let n = 0;
      let page = await store.list({ prefix, limit: limit || undefined });
      n += page.items.length;
      while (page.more) {
        page = await store.list({
          prefix,
          limit,
          continueKey: page.items.at(-1)!.key,
          revision: page.revision,
        });
        n += page.items.length;
      }
      if (n !== count) throw new Error(`${name}: listed ${n} keys, want ${count}`);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    rows.push(
      `${`LIST ${count} ${name}${limit ? ` (pages of ${limit})` : ' (whole)'}`.padEnd(44)} p50 ${percentile(times, 0.5).toFixed(1).padStart(7)} ms   p99 ${percentile(times, 0.99).toFixed(1).padStart(7)} ms`,
    );
  }
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'drv-storage-bench-'));
const etcd = await startEtcd();
const values = Array.from({ length: count }, (_, i) => configMap(i));
const prefix = '/registry/configmaps/default/';
try {
  const sqlite = new SqliteStore({ path: join(dir, 'state.db') });
  const etcdStore = new EtcdStore({ endpoints: [etcd.endpoint] });
  const raw = new Etcd3({ hosts: etcd.endpoint });
  await etcdStore.currentRevision(); // connect before timing
  await raw.get('/warm-up');

  const runs: Run[] = [];
  runs.push(await drive('sqlite backend create', (i) => sqlite.create(`${prefix}bench-${i}`, values[i]!)));
  runs.push(
    await drive('raw etcd put (floor)', (i) =>
      raw.put(`/raw${prefix}bench-${i}`).value(Buffer.from(values[i]!)).exec(),
    ),
  );
  runs.push(await drive('etcd backend create', (i) => etcdStore.create(`${prefix}bench-${i}`, values[i]!)));

  const bytes = values.reduce((n, v) => n + v.length, 0) / count;
  console.log(`\n${count} creates of ~${bytes.toFixed(0)} bytes, ${clients} concurrent clients`);
  console.log(
    `${'side'.padEnd(26)}${'creates/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
  );
  for (const r of runs) {
    console.log(
      `${r.name.padEnd(26)}${r.perSecond.toFixed(0).padStart(11)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}`,
    );
  }
  const [sq, floor, be] = runs as [Run, Run, Run];
  console.log(
    `etcd backend vs raw etcd: throughput ${(floor.perSecond / be.perSecond).toFixed(2)}x slower, p99 ${(be.p99 / floor.p99).toFixed(2)}x (target: within 2x)`,
  );
  console.log(
    `sqlite backend vs raw etcd: throughput ${(sq.perSecond / floor.perSecond).toFixed(2)}x, p99 ${(sq.p99 / floor.p99).toFixed(2)}x; target >= 2000/s and p99 < 50 ms: ${sq.perSecond >= 2000 && sq.p99 < 50 ? 'met' : 'MISSED'}`,
  );

  console.log('');
  for (const line of await timeLists('sqlite', sqlite, prefix)) console.log(line);
  for (const line of await timeLists('etcd', etcdStore, prefix)) console.log(line);

  await sqlite.close();
  await etcdStore.close();
  raw.close();
} finally {
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
