/**
 * Ingress throughput (issue 7): requests/s through our ingress (the real
 * controller over a FakeClient: IngressClass, Ingress, Service and
 * EndpointSlice in, generated nginx configuration out) beside a stock Debian
 * nginx proxying to the same backend with keep-alive, and beside a plain
 * node:http reverse proxy (the data path we measured and did not choose).
 * All driven by wrk on loopback, rounds interleaved, medians reported.
 *
 *   node bench/ingress-rps.ts [seconds=8] [connections=64] [rounds=3]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FakeClient, InformerFactory, resources } from '../src/client/index.ts';
import { IngressController } from '../src/ingress/controller.ts';
import { droverClass, ingress, service, slice } from '../src/ingress/fixtures.ts';
import { ingressClassResource, ingressResource } from '../src/ingress/model.ts';
import { findNginx } from '../src/ingress/nginx.ts';
import { ensureFallbackCertificate } from '../src/ingress/tls.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { freePort } from '../test/apiserver-harness.ts';

const run = promisify(execFile);
const seconds = Number(process.argv[2] ?? 8);
const conns = Number(process.argv[3] ?? 64);
const rounds = Number(process.argv[4] ?? 3);
const nginxBin = findNginx();
if (!nginxBin) {
  console.log('peer not installed: nginx (apt-get install nginx-light); our data path needs it too');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'drv-ingress-bench-'));
const children: ReturnType<typeof spawn>[] = [];
const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
const [backendPort, peerPort, oursPort, nodePort, peerTlsPort, oursTlsPort] = ports as [
  number,
  number,
  number,
  number,
  number,
  number,
];
const peerCert = join(dir, 'peer-cert.pem');
await ensureFallbackCertificate(peerCert);

function startNginx(name: string, conf: string): void {
  const path = join(dir, `${name}.conf`);
  writeFileSync(path, conf);
  children.push(spawn(nginxBin as string, ['-c', path, '-p', dir, '-e', 'stderr'], { stdio: 'inherit' }));
}

const common = `daemon off; events { worker_connections 16384; } `;
// The backend: one nginx worker answering from memory, as fast a server as this machine has.
startNginx(
  'backend',
  `${common} worker_processes 1; pid ${dir}/backend.pid; http { access_log off; keepalive_requests 1000000;
   server { listen 127.0.0.1:${backendPort} backlog=4096; location / { return 200 "hello from the backend\\n"; } } }`,
);
// The peer: stock Debian nginx as a keep-alive reverse proxy, the way one writes it by hand.
startNginx(
  'peer',
  `${common} worker_processes auto; pid ${dir}/peer.pid; http { access_log off;
   upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
   server { listen 127.0.0.1:${peerPort} backlog=4096; listen 127.0.0.1:${peerTlsPort} ssl backlog=4096;
     ssl_certificate ${peerCert}; ssl_certificate_key ${peerCert}; location / { proxy_pass http://backend;
     proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
     proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Forwarded-Proto $scheme; } } }`,
);

// Ours: the controller turns these objects into nginx configuration.
const client = new FakeClient();
client.seed(ingressClassResource, droverClass);
client.seed(resources.services, service('web'));
client.seed(resources.endpointSlices, slice('web', backendPort, ['127.0.0.1']));
client.seed(ingressResource, ingress('web', [{ host: 'bench.local', paths: [['/', 'Prefix', 'web']] }]));
const informers = new InformerFactory(client);
const abort = new AbortController();
const controller = new IngressController({
  client,
  informers,
  nodeName: 'bench',
  nodeIP: '127.0.0.1',
  publishStatus: false,
  dir: join(dir, 'ours'),
  httpPort: oursPort,
  httpsPort: oursTlsPort,
  address: '127.0.0.1',
  log: silentLogger(),
});
informers.start(abort.signal);
await controller.start();

// The rejected design: node:http with a keep-alive agent, one process.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const nodeProxy = http.createServer((req, res) => {
  const up = http.request(
    {
      host: '127.0.0.1',
      port: backendPort,
      method: req.method,
      path: req.url,
      agent,
      headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' },
    },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
await new Promise<void>((r) => nodeProxy.listen(nodePort, '127.0.0.1', 4096, r));

async function ready(port: number, scheme: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = (scheme === 'https' ? https : http).get(
        {
          host: '127.0.0.1',
          port,
          headers: { host: 'bench.local' },
          agent: false,
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing answers on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function wrk(port: number, scheme: string, secs: number): Promise<{ rps: number; p99: string }> {
  const { stdout } = await run('wrk', [
    '-t2',
    `-c${conns}`,
    `-d${secs}s`,
    '--latency',
    '-H',
    'Host: bench.local',
    `${scheme}://127.0.0.1:${port}/`,
  ]);
  if (/Non-2xx/.test(stdout)) throw new Error(`non-2xx answers on port ${port}:\n${stdout}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN),
    p99: /99%\s+(\S+)/.exec(stdout)?.[1] ?? '?',
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

try {
  // [name, scheme, port, the peer it is compared with]
  const targets: [string, string, number, string][] = [
    ['direct', 'http', backendPort, 'nginx'],
    ['nginx', 'http', peerPort, 'nginx'],
    ['ours', 'http', oursPort, 'nginx'],
    ['node:http', 'http', nodePort, 'nginx'],
    ['nginx tls', 'https', peerTlsPort, 'nginx tls'],
    ['ours tls', 'https', oursTlsPort, 'nginx tls'],
  ];
  for (const [, scheme, port] of targets) await ready(port, scheme);
  const results: Record<string, { rps: number[]; p99: string[] }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, scheme, port] of targets) {
      if (round === 0) await wrk(port, scheme, 1); // warm-up: keep-alive pools, worker caches
      const r = await wrk(port, scheme, seconds);
      results[name] ??= { rps: [], p99: [] };
      results[name].rps.push(r.rps);
      results[name].p99.push(r.p99);
    }
  }
  console.log(
    `ingress requests/s, wrk -t2 -c${conns} ${seconds}s x ${rounds} rounds (median; keep-alive), 2 cores shared by all`,
  );
  for (const [name, , , peerName] of targets) {
    const m = median(results[name]?.rps ?? []);
    const peer = median(results[peerName]?.rps ?? []);
    console.log(
      `  ${name.padEnd(10)} ${m.toFixed(0).padStart(8)} req/s  ${(m / peer).toFixed(2)}x ${peerName.padEnd(9)}  p99 ${results[name]?.p99.join(' ')}`,
    );
  }
  const ratio = median(results.ours?.rps ?? []) / median(results.nginx?.rps ?? []);
  const tls = median(results['ours tls']?.rps ?? []) / median(results['nginx tls']?.rps ?? []);
  console.log(`ours / nginx: ${ratio.toFixed(2)}x http, ${tls.toFixed(2)}x https (target >= 0.7x)`);
} finally {
  await controller.stop();
  abort.abort();
  await informers.stop();
  nodeProxy.close();
  agent.destroy();
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  rmSync(dir, { recursive: true, force: true });
}
