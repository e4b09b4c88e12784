/**
 * Cluster DNS: queries per second and latency of service lookups (issue 7:
 * at least 10,000 QPS with p99 under 5 ms on a 2-core machine), beside
 * dnsmasq from Debian serving the same names from a hosts file, measured in
 * the same run with the same load generator (bench/dns-load.ts in a worker).
 *
 * Two loads per server, each after a warm-up: closed loop (64 queries always
 * in flight: the most it can do) and open loop at a fixed 10,000 QPS (the
 * latency a steady load sees). 1,000 ClusterIP Services; every name asked
 * in turn, all answered from the informer caches.
 *
 *   node bench/dns-queries.ts [seconds=5]
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { silentLogger } from '../src/lib/logger.ts';
import { emptyCluster, service } from '../src/proxy/dns/fake-view.ts';
import { DnsHandler } from '../src/proxy/dns/handler.ts';
import { DnsServer } from '../src/proxy/dns/server.ts';
import { ClusterZone } from '../src/proxy/dns/zone.ts';
import type { LoadResult, LoadSpec } from './dns-load.ts';

const seconds = Number(process.argv[2] ?? 5);
const services = 1000;
const names: string[] = [];
const hosts: string[] = [];
// A view that can tell when it changes (as the informer-backed one can): replies may be cached.
const cluster = emptyCluster(
  () => true,
  () => 0,
);
for (let i = 0; i < services; i++) {
  const ip = `10.43.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
  cluster.services.set(
    service('bench', `svc-${i}`, { clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80 }] }),
  );
  names.push(`svc-${i}.bench.svc.cluster.local`);
  hosts.push(`${ip} svc-${i}.bench.svc.cluster.local`);
}

function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./dns-load.ts', import.meta.url), { workerData: spec });
    w.once('message', (r: LoadResult) => {
      resolve(r);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

function pct(xs: number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

interface Figures {
  qps: number;
  p50: number;
  p99: number;
  lost: number;
  errors: string;
}

async function measure(port: number): Promise<{ closed: Figures; open: Figures }> {
  const base = { port, names, durationMs: seconds * 1000, warmupMs: 1000 };
  const fig = (r: LoadResult): Figures => ({
    qps: r.latencies.length / (r.elapsedMs / 1000),
    p50: pct(r.latencies, 50),
    p99: pct(r.latencies, 99),
    lost: r.lost,
    errors:
      Object.entries(r.errors)
        .map(([k, v]) => `rcode ${k}: ${v}`)
        .join(', ') || 'none',
  });
  const closed = fig(await load({ ...base, window: 64 }));
  const open = fig(await load({ ...base, rate: 10_000 }));
  return { closed, open };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** dnsmasq answering the same names from a hosts file, or undefined when it is not installed. */
async function startDnsmasq(dir: string): Promise<{ port: number; stop: () => void } | undefined> {
  const file = join(dir, 'hosts');
  writeFileSync(file, `${hosts.join('\n')}\n`);
  chmodSync(dir, 0o755); // dnsmasq reads it after dropping to nobody
  const port = await freePort();
  const child = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${file}`,
      '--cache-size=10000',
      '--pid-file=',
    ],
    { stdio: 'ignore' },
  );
  const ok = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.once('spawn', () => resolve(true));
  });
  if (!ok) return undefined;
  await new Promise((r) => setTimeout(r, 300)); // dnsmasq has no readiness signal; it reads the file at start
  return { port, stop: () => child.kill('SIGTERM') };
}

const row = (name: string, f: Figures | undefined) =>
  f
    ? `${name.padEnd(22)} ${f.qps.toFixed(0).padStart(8)} QPS  p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms  lost ${f.lost}  errors ${f.errors}`
    : `${name.padEnd(22)} peer not installed`;

const log = silentLogger();
const zone = new ClusterZone({ view: cluster.view, domain: 'cluster.local', clusterDNS: '127.0.0.1' });
const server = new DnsServer({ handler: new DnsHandler({ zone, log }), log });
const port = await server.listen('127.0.0.1', 0);
const dir = mkdtempSync(join(tmpdir(), 'drv-dns-bench-'));
try {
  const ours = await measure(port);
  const peer = await startDnsmasq(dir);
  const theirs = peer ? await measure(peer.port).finally(() => peer.stop()) : undefined;
  console.log(
    `cluster DNS, ${services} services, cached service lookups (A), ${seconds} s per load, 2 cores`,
  );
  console.log(row('drover closed(64)', ours.closed));
  console.log(row('dnsmasq closed(64)', theirs?.closed));
  console.log(row('drover open 10k/s', ours.open));
  console.log(row('dnsmasq open 10k/s', theirs?.open));
  if (theirs)
    console.log(
      `ratio drover/dnsmasq: throughput ${(ours.closed.qps / theirs.closed.qps).toFixed(2)}x, ` +
        `p99 at 10k/s ${(ours.open.p99 / theirs.open.p99).toFixed(2)}x`,
    );
  const pass = ours.closed.qps >= 10_000 && ours.open.p99 < 5;
  console.log(`target >= 10,000 QPS with p99 < 5 ms: ${pass ? 'met' : 'NOT met'}`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
