/**
 * Published-port throughput: busybox httpd in a container published with -p,
 * many short connections (busybox httpd closes each one after its response),
 * beside the same httpd on the host, and podman's published port in the same
 * run, all three up at once and loaded in turn. Load with `wrk -c16 -t2 -d3s`
 * (Debian's wrk), median of 3 rounds.
 * Target (issue 2 §5): drover/host ≥ 0.69 (podman's CNI portmap), aiming at 0.8.
 * Run: node bench/engine-ports.ts [wrk duration, default 3s]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test/oci-fixture.ts';
import { busyboxArchive, startDaemon } from './engine-daemon.ts';

const duration = process.argv[2] ?? '3s';
const podmanLimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const body = 'x'.repeat(512);
const serve = `mkdir -p /www && printf '${body}' > /www/index.html && exec httpd -f -p 80 -h /www`;
const basePort = 20000 + (process.pid % 20000);

if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(url)
      .then((r) => r.text().then(() => r.ok))
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Requests per second from wrk. */
function load(url: string): number {
  const r = spawnSync('wrk', ['-c16', '-t2', `-d${duration}`, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s*([\d.]+)/.exec(r.stdout)?.[1]);
  if (!rps) throw new Error(`wrk ${url}: ${r.stdout}${r.stderr}`);
  const errors = /Socket errors:.*|Non-2xx.*/.exec(r.stdout)?.[0];
  if (errors) console.log(`  (${url}: ${errors})`);
  return rps;
}

const rounds = Number(process.env.ROUNDS ?? 3);
const podmanName = `drv-bench-ports-${process.pid}`;
let podmanNote = '';
const results: Record<string, number> = {};
const urls: Record<string, string> = {};

// ---- the same httpd on the host
const www = tempDir('drv-bench-ports-');
let host: ChildProcess | undefined;
try {
  mkdirSync(join(www, 'www'));
  writeFileSync(join(www, 'www/index.html'), body);
  host = spawn('/bin/busybox', ['httpd', '-f', '-p', `127.0.0.1:${basePort}`, '-h', join(www, 'www')], {
    stdio: 'ignore',
  });
  await ready(`http://127.0.0.1:${basePort}/`);
  urls.host = `http://127.0.0.1:${basePort}/`;
  await withDrover();
} finally {
  host?.kill();
  rmSync(www, { recursive: true, force: true });
}

/** All servers up at once, load interleaved (host, drover, podman, host ...) so that noise hits all alike. */
function measure(): void {
  const samples: Record<string, number[]> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [k, url] of Object.entries(urls)) samples[k] = [...(samples[k] ?? []), load(url)];
  }
  for (const [k, v] of Object.entries(samples))
    console.log(`  ${k} rounds: ${v.map((x) => x.toFixed(0)).join(' ')}`);
  for (const [k, v] of Object.entries(samples))
    results[k] = [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
}

async function withDrover(): Promise<void> {
  const d = await startDaemon('ports');
  try {
    const port = basePort + 1;
    const { Id } = JSON.parse(
      await d.api.ok('POST', '/containers/create', {
        Image: 'busybox',
        Cmd: ['sh', '-c', serve],
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(port) }] } },
      }),
    ) as { Id: string };
    await d.api.ok('POST', `/containers/${Id}/start`);
    await ready(`http://127.0.0.1:${port}/`);
    urls.drover = `http://127.0.0.1:${port}/`;
    await withPodman();
  } finally {
    const left = await d.destroy();
    if (left.length) console.error(`left behind: ${left.join(', ')}`);
  }
}

async function withPodman(): Promise<void> {
  if (spawnSync('podman', ['load', '-i', busyboxArchive]).status === 0) {
    try {
      const port = basePort + 2;
      const r = spawnSync(
        'podman',
        [
          'run',
          '-d',
          '--name',
          podmanName,
          ...podmanLimits,
          '-p',
          `${port}:80`,
          'localhost/busybox:latest',
          'sh',
          '-c',
          serve,
        ],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`podman run: ${r.stderr.trim()}`);
      await ready(`http://127.0.0.1:${port}/`);
      urls.podman = `http://127.0.0.1:${port}/`;
    } catch (err) {
      podmanNote = (err as Error).message;
    }
  } else {
    podmanNote = 'podman load failed';
  }
  try {
    measure();
  } finally {
    spawnSync('podman', ['rm', '-f', '-t', '0', podmanName]);
  }
}

const h = results.host ?? Number.NaN;
console.log(
  `busybox httpd, wrk -c16 -t2 -d${duration}, a new connection per request, median of ${rounds} interleaved rounds`,
);
console.log(`  host                  ${h.toFixed(0).padStart(7)} req/s`);
for (const k of ['drover', 'podman']) {
  const v = results[k];
  if (v === undefined) continue;
  console.log(
    `  ${`${k} published port`.padEnd(21)} ${v.toFixed(0).padStart(7)} req/s  ${(v / h).toFixed(2)}x host`,
  );
}
if (podmanNote) console.log(`  podman skipped: ${podmanNote}`);
console.log('target: drover ≥ 0.69x host (podman CNI portmap), aiming at 0.8x');
