// Benchmarks the API server as kubectl's peers see it: HTTPS with client
// certificates against a `drover server` child process.
//   node bench/apiserver-create.ts [count=10000] [concurrency=16]
// Prints create throughput/latency on SQLite and etcd beside raw etcd puts of
// the same bytes, LIST of everything (full and paginated), watch fan-out
// latency, and the server's idle RSS and time to a first `kubectl get ns`.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Etcd3 } from 'etcd3';
import YAML from 'yaml';
import { startEtcd } from '../src/storage/etcd/etcd-process.ts';
import { startServer, type TestServer } from '../test/apiserver-harness.ts';

const count = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 16);

interface Client {
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  agent: https.Agent;
  /** Unlimited sockets, for long-running watches. */
  watchAgent: https.Agent;
}

function client(s: TestServer): Client {
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64');
  const tls = {
    ca: b(kc.clusters[0]?.cluster['certificate-authority-data']),
    cert: b(kc.users[0]?.user['client-certificate-data']),
    key: b(kc.users[0]?.user['client-key-data']),
  };
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency * 2, ...tls });
  const watchAgent = new https.Agent({ ...tls });
  const url = new URL(s.url);
  return {
    agent,
    watchAgent,
    request: (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method,
            agent,
            headers: {
              'Content-Type': 'application/json',
              ...(data ? { 'Content-Length': Buffer.byteLength(data) } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
          },
        );
        req.on('error', reject);
        req.end(data);
      }),
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function parallel(
  n: number,
  worker: (i: number) => Promise<void>,
): Promise<{ perSec: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await worker(i);
        lat.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { perSec: n / secs, p50: pct(lat, 50), p99: pct(lat, 99) };
}

const cm = (i: number) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: `cm-${i}` },
  data: { key: `value-${i}` },
});

async function benchServer(s: TestServer) {
  const c = client(s);
  const create = await parallel(count, async (i) => {
    const r = await c.request('POST', '/api/v1/namespaces/default/configmaps', cm(i));
    if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.body}`);
  });
  const listTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await c.request('GET', '/api/v1/namespaces/default/configmaps');
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.body.slice(0, 300)}`);
    listTimes.push(performance.now() - t);
  }
  const pageTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    let cont = '';
    do {
      const r = await c.request(
        'GET',
        `/api/v1/namespaces/default/configmaps?limit=500${cont ? `&continue=${cont}` : ''}`,
      );
      cont = (JSON.parse(r.body) as { metadata: { continue?: string } }).metadata.continue ?? '';
    } while (cont);
    pageTimes.push(performance.now() - t);
  }
  const watch = await watchFanOut(s, c);
  c.agent.destroy();
  c.watchAgent.destroy();
  listTimes.sort((a, b) => a - b);
  pageTimes.sort((a, b) => a - b);
  return {
    create,
    list: { p50: pct(listTimes, 50), p99: pct(listTimes, 99) },
    paged: { p50: pct(pageTimes, 50), p99: pct(pageTimes, 99) },
    watch,
  };
}

/** 100 watchers; each write's delivery latency to every watcher. */
async function watchFanOut(s: TestServer, c: Client): Promise<{ p50: number; p99: number }> {
  const watchers = 100;
  const url = new URL(s.url);
  const sent = new Map<string, number>();
  const lat: number[] = [];
  const reqs: ReturnType<typeof https.request>[] = [];
  let ready = 0;
  await new Promise<void>((resolve) => {
    for (let w = 0; w < watchers; w++) {
      const req = https.request(
        {
          host: url.hostname,
          port: url.port,
          path: '/api/v1/namespaces/fan/configmaps?watch=true',
          agent: c.watchAgent,
        },
        (res) => {
          if (++ready === watchers) resolve();
          let buf = '';
          res.on('data', (chunk: Buffer) => {
            buf += chunk.toString();
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const name = (JSON.parse(line) as { object: { metadata: { name: string } } }).object.metadata
                .name;
              const at = sent.get(name);
              if (at !== undefined) lat.push(performance.now() - at);
            }
          });
        },
      );
      req.on('error', () => {});
      req.end();
      reqs.push(req);
    }
  });
  await c.request('POST', '/api/v1/namespaces', { metadata: { name: 'fan' } });
  const writes = 50;
  for (let i = 0; i < writes; i++) {
    sent.set(`f-${i}`, performance.now());
    await c.request('POST', '/api/v1/namespaces/fan/configmaps', { metadata: { name: `f-${i}` } });
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < writes * watchers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const r of reqs) r.destroy();
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function rawEtcd(endpoint: string) {
  const etcd = new Etcd3({ hosts: endpoint });
  const value = Buffer.from(JSON.stringify(cm(0)));
  const r = await parallel(count, async (i) => {
    await etcd.put(`/bench/raw/${i}`).value(value);
  });
  etcd.close();
  return r;
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

const fmt = (r: { perSec: number; p50: number; p99: number }) =>
  `${r.perSec.toFixed(0).padStart(6)} /s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms`;

const sqlite = await startServer({ datastore: 'sqlite' });
const idle = rss(sqlite.pid);
const sq = await benchServer(sqlite).finally(() => sqlite.stop());
const etcdProc = await startEtcd();
let et: Awaited<ReturnType<typeof benchServer>>;
let raw: Awaited<ReturnType<typeof rawEtcd>>;
try {
  raw = await rawEtcd(etcdProc.endpoint);
  const onEtcd = await startServer({ datastore: 'etcd', etcdEndpoint: etcdProc.endpoint });
  et = await benchServer(onEtcd).finally(() => onEtcd.stop());
} finally {
  await etcdProc.stop();
}
console.log(`apiserver: ${count} ConfigMap creates, ${concurrency} concurrent HTTPS clients`);
console.log(`  sqlite backend      ${fmt(sq.create)}`);
console.log(`  etcd backend        ${fmt(et.create)}`);
console.log(
  `  raw etcd puts       ${fmt(raw)}   (etcd backend / raw: ${(raw.perSec / et.create.perSec).toFixed(2)}x slower)`,
);
console.log(
  `LIST ${count} objects   sqlite full p50 ${sq.list.p50.toFixed(0)} ms p99 ${sq.list.p99.toFixed(0)} ms, paginated(500) p50 ${sq.paged.p50.toFixed(0)} ms`,
);
console.log(
  `                     etcd   full p50 ${et.list.p50.toFixed(0)} ms p99 ${et.list.p99.toFixed(0)} ms, paginated(500) p50 ${et.paged.p50.toFixed(0)} ms`,
);
console.log(
  `watch fan-out (100 watchers)  sqlite p50 ${sq.watch.p50.toFixed(1)} ms p99 ${sq.watch.p99.toFixed(1)} ms; etcd p50 ${et.watch.p50.toFixed(1)} ms p99 ${et.watch.p99.toFixed(1)} ms`,
);
console.log(
  `server idle RSS (sqlite, 4 namespaces) ${idle.toFixed(1)} MiB (target < 100; k3s ~1600 MB with workload)`,
);
console.log(
  `start to first kubectl get ns: sqlite ${sqlite.readyMs.toFixed(0)} ms (target < 1000; k3s tens of seconds)`,
);
