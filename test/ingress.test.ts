/**
 * Ingress acceptance on a real one-node cluster: two Deployments of busybox
 * httpd serving different pages behind two Services, one Ingress routing two
 * hosts on the node's ingress ports (high ports here), TLS from a Secret
 * chosen by SNI, status.loadBalancer, a WebSocket upgrade, and upstream's
 * refusal of malformed paths.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { findNginx } from '../src/ingress/nginx.ts';
import { selfSignedCertArgs } from '../src/ingress/tls.ts';
import { freePort } from './apiserver-harness.ts';
import { type Cluster, startCluster, until } from './support/cluster.ts';

const skip = findNginx() ? false : 'nginx is not installed';
let c: Cluster;
let httpPort = 0;
let httpsPort = 0;
const certDir = mkdtempSync(join(tmpdir(), 'drv-ingress-test-'));

before(async () => {
  if (skip) return;
  httpPort = await freePort();
  httpsPort = await freePort();
  c = await startCluster({
    name: 'ing',
    args: ['--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort)],
  });
});

after(async () => {
  rmSync(certDir, { recursive: true, force: true });
  if (!c) return;
  const dir = c.dir;
  const left = await c.stop();
  const nginx = spawnSync('pgrep', ['-f', `nginx.*${dir}`], { encoding: 'utf8' }).stdout.trim();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
  assert.equal(nginx, '', 'the ingress nginx outlived its node');
});

const app = (name: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
      - name: httpd
        image: busybox
        command: [sh, -c, "mkdir -p /www && echo page-${name} > /www/index.html && exec httpd -f -p 8080 -h /www"]
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
`;

const ingress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  tls: [{ hosts: [a.example.com], secretName: a-tls }]
  rules:
  - host: a.example.com
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }] }
  - host: "*.b.example.com"
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: beta, port: { number: 80 } } } }] }
`;

function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path, headers: { host }, agent: false, timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (b: Buffer) => {
          body += b.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      },
    );
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
  });
}

test('an Ingress routes two hosts to two Services and serves TLS with the Secret certificate', {
  skip,
}, async () => {
  execFileSync(
    'openssl',
    selfSignedCertArgs({
      subject: '/CN=a.example.com',
      san: 'DNS:a.example.com',
      days: 1,
      keyPath: join(certDir, 'tls.key'),
      certPath: join(certDir, 'tls.crt'),
    }),
    { stdio: 'ignore' },
  );
  await c.k(
    'create',
    'secret',
    'tls',
    'a-tls',
    `--cert=${join(certDir, 'tls.crt')}`,
    `--key=${join(certDir, 'tls.key')}`,
  );
  const applied = await c.kubectl(['apply', '-f', '-'], {
    stdin: `${app('alpha')}---${app('beta')}---${ingress}`,
  });
  assert.equal(applied.code, 0, applied.stderr);

  await until(
    'alpha behind a.example.com',
    async () => (await get(httpPort, 'a.example.com')).body === 'page-alpha',
    45_000,
  );
  await until(
    'beta behind x.b.example.com',
    async () => (await get(httpPort, 'x.b.example.com')).body === 'page-beta',
    20_000,
  );
  assert.equal((await get(httpPort, 'unknown.example.com')).status, 404);

  const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port: httpsPort, servername: 'a.example.com', rejectUnauthorized: false },
      () => {
        resolve(s.getPeerCertificate());
        s.end();
      },
    );
    s.on('error', reject);
  });
  assert.equal(cert.subject.CN, 'a.example.com');
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: httpsPort,
        servername: 'a.example.com',
        headers: { host: 'a.example.com' },
        ca: execFileSync('cat', [join(certDir, 'tls.crt')]),
        agent: false,
      },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => {
          b += d.toString();
        });
        res.on('end', () => resolve(b.trim()));
      },
    );
    req.on('error', reject);
  });
  assert.equal(
    body,
    'page-alpha',
    'the Secret certificate verifies for a.example.com and the page comes through',
  );

  const ip = await until('status.loadBalancer of the Ingress', async () =>
    (await c.k('get', 'ingress', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}')).trim(),
  );
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  // The DefaultIngressClass admission named the default class; kubectl shows it and the address.
  const row = await c.k('get', 'ingress', 'web', '--no-headers');
  assert.match(
    row,
    new RegExp(
      `^web\\s+drover\\s+a\\.example\\.com,\\*\\.b\\.example\\.com\\s+${ip.replaceAll('.', '\\.')}\\s+80, 443`,
    ),
  );
});

test('a scaled-away backend answers 503; scaling back restores it', { skip }, async () => {
  await c.k('scale', 'deployment', 'beta', '--replicas=0');
  await until('503 for beta', async () => (await get(httpPort, 'x.b.example.com')).status === 503, 30_000);
  assert.equal((await get(httpPort, 'a.example.com')).body, 'page-alpha');
  await c.k('scale', 'deployment', 'beta', '--replicas=1');
  await until('beta back', async () => (await get(httpPort, 'x.b.example.com')).body === 'page-beta', 30_000);
});

const echo = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      containers:
      - name: nc
        image: busybox
        # Answers an Upgrade request with 101, then echoes the stream back.
        command: [nc, -ll, -p, "8080", -e, sh, -c, 'while read -r l; do case "$l" in "$(printf "\\r")"|"") break;; esac; done; printf "HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n"; exec cat']
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec:
  selector: { app: echo }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ws }
spec:
  rules:
  - host: ws.example.com
    http: { paths: [{ path: /socket, pathType: Prefix, backend: { service: { name: echo, port: { number: 80 } } } }] }
`;

/** An Upgrade request through the ingress: the 101 status and what the backend echoes after it. */
function upgrade(): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port: httpPort,
      path: '/socket/x',
      headers: { host: 'ws.example.com', connection: 'Upgrade', upgrade: 'websocket' },
      timeout: 2000,
    });
    req.on('upgrade', (res, socket) => {
      socket.once('data', (b: Buffer) => {
        resolve(`${res.statusCode} ${b.toString().trim()}`);
        socket.destroy();
      });
      socket.write('ping\n');
    });
    req.on('response', (res) => {
      res.resume();
      resolve(String(res.statusCode));
    });
    req.on('error', () => resolve('error'));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

test('WebSocket upgrades pass through a second Ingress', { skip }, async () => {
  const applied = await c.kubectl(['apply', '-f', '-'], { stdin: echo });
  assert.equal(applied.code, 0, applied.stderr);
  await until('an upgraded, echoing stream', async () => (await upgrade()) === '101 ping', 45_000);
  assert.equal((await get(httpPort, 'a.example.com')).body, 'page-alpha', 'the first Ingress still routes');
});

test('malformed Ingress paths are refused with upstream messages', { skip }, async () => {
  const bad = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: bad }
spec:
  rules:
  - http:
      paths:
      - { path: nope, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }
      - { path: /x, pathType: Regex, backend: { service: { name: alpha, port: { number: 80 } } } }
      - { path: /y, pathType: Exact, backend: {} }
`;
  const r = await c.kubectl(['apply', '-f', '-'], { stdin: bad });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "nope": must be an absolute path/,
  );
  assert.match(r.stderr, /spec\.rules\[0\]\.http\.paths\[1\]\.pathType: Unsupported value: "Regex"/);
  assert.match(
    r.stderr,
    /spec\.rules\[0\]\.http\.paths\[2\]\.backend: Invalid value: "": resource or service backend is required/,
  );
  const classes = await c.k('get', 'ingressclass', 'drover', '-o', 'jsonpath={.spec.controller}');
  assert.equal(classes, 'drover.io/ingress');
});
