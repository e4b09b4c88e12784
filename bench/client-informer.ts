// Benchmarks client/ against a `drover server` child process (SQLite):
//   node bench/client-informer.ts [pods=2000] [concurrency=16]
// Prints typed-client create throughput and latency, an informer's initial
// sync of every pod beside `kubectl get pods -A -o json` of the same pods,
// watch-to-handler latency for updates, and in-process workqueue throughput.
import { spawnSync } from 'node:child_process';
import {
  clientset,
  HttpClient,
  InformerFactory,
  loadKubeconfig,
  type Pod,
  resources,
  Workqueue,
} from '../src/client/index.ts';
import { startServer } from '../test/apiserver-harness.ts';

const count = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

const server = await startServer({ datastore: 'sqlite' });
const client = new HttpClient(await loadKubeconfig(server.kubeconfig));
const cs = clientset(client);
try {
  await cs.namespaces.create({ metadata: { name: 'bench' } });
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const s = performance.now();
        await cs.pods.create({
          metadata: { name: `p${i}`, namespace: 'bench', labels: { app: 'bench' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        });
        lat.push(performance.now() - s);
      }
    }),
  );
  const createS = (performance.now() - t0) / 1000;
  console.log(
    `create ${count} pods (concurrency ${concurrency}): ${(count / createS).toFixed(0)}/s, p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))}`,
  );

  const factory = new InformerFactory(client);
  const inf = factory.informerFor<Pod>(resources.pods, { namespace: 'bench' });
  const seen = new Map<string, number>();
  inf.addHandler({ onUpdate: (_o, n) => seen.set(n.metadata.resourceVersion ?? '', performance.now()) });
  const s1 = performance.now();
  factory.start();
  await factory.waitForSync();
  const syncMs = performance.now() - s1;
  const s2 = performance.now();
  const k = spawnSync('/usr/bin/kubectl', ['get', 'pods', '-n', 'bench', '-o', 'json'], {
    env: { ...process.env, KUBECONFIG: server.kubeconfig, HOME: server.dir },
    maxBuffer: 1 << 30,
  });
  const kubectlMs = performance.now() - s2;
  console.log(
    `list ${inf.store.size} pods: informer sync ${ms(syncMs)} (pages of 500) | kubectl get -o json ${ms(kubectlMs)} (exit ${k.status})`,
  );

  const watchLat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    const p = await cs.pods.patch(
      `p${i}`,
      'merge',
      { metadata: { labels: { round: String(i) } } },
      { namespace: 'bench' },
    );
    const rv = p.metadata.resourceVersion ?? '';
    const deadline = Date.now() + 5000;
    while (!seen.has(rv) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    watchLat.push((seen.get(rv) ?? Number.NaN) - s);
  }
  console.log(
    `patch -> informer handler (200 updates): p50 ${ms(pct(watchLat, 50))}, p99 ${ms(pct(watchLat, 99))}`,
  );
  await factory.stop();
} finally {
  client.close();
  await server.stop();
}

const q = new Workqueue<string>();
const n = 200_000;
const s3 = performance.now();
for (let i = 0; i < n; i++) q.add(`k${i % 50_000}`);
let handled = 0;
for (;;) {
  if (q.length === 0) break;
  const key = await q.get();
  if (key === undefined) break;
  q.done(key);
  handled++;
}
q.shutDown();
const qs = (performance.now() - s3) / 1000;
console.log(
  `workqueue: ${n} adds of 50000 keys -> ${handled} handled in ${(qs * 1000).toFixed(0)} ms (${(n / qs / 1e6).toFixed(2)} M adds/s with dedup)`,
);
