/**
 * The data path for real: the routing model rendered for a real nginx on
 * loopback, in front of small HTTP backends that answer with their name and
 * the headers they got. Skipped when nginx is not installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { silentLogger } from '../lib/logger.ts';
import { buildModel } from './config.ts';
import { ingress, service, slice, state } from './fixtures.ts';
import type { Secret } from './model.ts';
import { findNginx, Nginx, workerUser } from './nginx.ts';
import { renderNginxConf } from './nginx-conf.ts';
import { ensureFallbackCertificate, fallbackSubject, selfSignedCertArgs } from './tls.ts';

const skip = findNginx() ? false : 'nginx is not installed';
const dir = mkdtempSync(join(tmpdir(), 'drv-ingress-routing-'));
const backends = new Map<string, http.Server>();
let nginx: Nginx | undefined;
let httpPort = 0;
let httpsPort = 0;

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A backend answering `{ name, url, headers }`; slow paths (/slow) answer after 600 ms. */
async function backend(name: string): Promise<number> {
  const s = http.createServer((req, res) => {
    const reply = () => res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
    if (req.url?.startsWith('/slow')) setTimeout(reply, 600);
    else reply();
  });
  s.on('upgrade', (req, socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`,
    );
    socket.on('data', (b: Buffer) => socket.write(`${name}:${b.toString()}`));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  backends.set(name, s);
  return (s.address() as AddressInfo).port;
}

function selfSigned(cn: string): Secret {
  const key = join(dir, `${cn}.key`);
  const crt = join(dir, `${cn}.crt`);
  execFileSync(
    'openssl',
    selfSignedCertArgs({ subject: `/CN=${cn}`, san: `DNS:${cn}`, days: 1, keyPath: key, certPath: crt }),
    { stdio: 'ignore' },
  );
  const b64 = (f: string) => readFileSync(f).toString('base64');
  return {
    metadata: { name: 'foo-tls', namespace: 'default' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(crt), 'tls.key': b64(key) },
  };
}

function get(
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: httpPort, path, headers: { host, ...headers }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (b: Buffer) => {
          body += b.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

async function who(host: string, path: string): Promise<string> {
  const r = await get(host, path);
  return r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : String(r.status);
}

let model: ReturnType<typeof buildModel>;
let fallbackPem = '';

async function configure(extra: { deadPort?: number } = {}): Promise<void> {
  const names = ['root', 'api', 'v2', 'exact', 'wild', 'any', 'default'];
  const ports = Object.fromEntries(
    names.map((n) => [n, (backends.get(n)?.address() as AddressInfo | undefined)?.port ?? 0]),
  );
  const slices = names.map((n) => slice(n, ports[n] ?? 0, ['127.0.0.1']));
  // "flaky" has a dead endpoint beside a live one: connect failures retry the other.
  if (extra.deadPort)
    slices.push(
      { ...slice('flaky', extra.deadPort, ['127.0.0.1']) },
      {
        ...slice('flaky', ports.api ?? 0, ['127.0.0.1']),
        metadata: {
          name: 'flaky-2',
          namespace: 'default',
          labels: { 'kubernetes.io/service-name': 'flaky' },
        },
      },
    );
  model = buildModel(
    state({
      ingresses: [
        ingress(
          'main',
          [
            {
              host: 'foo.example.com',
              paths: [
                ['/', 'Prefix', 'root'],
                ['/api', 'Prefix', 'api'],
                ['/api/v2/', 'Prefix', 'v2'],
                ['/exact', 'Exact', 'exact'],
                ['/impl', 'ImplementationSpecific', 'exact'],
                ['/flaky', 'Prefix', 'flaky'],
              ],
            },
            { host: '*.wild.example.com', paths: [['/', 'Prefix', 'wild']] },
            { host: 'exact.wild.example.com', paths: [['/', 'Prefix', 'api']] },
            { paths: [['/any', 'Prefix', 'any']] },
            { host: 'empty.example.com', paths: [['/', 'Prefix', 'empty']] },
            { host: 'gone.example.com', paths: [['/', 'Prefix', 'gone']] },
          ],
          { defaultBackend: 'default', tls: [{ hosts: ['foo.example.com'], secretName: 'foo-tls' }] },
        ),
        ingress('later', [{ host: 'foo.example.com', paths: [['/api', 'Prefix', 'wild']] }], {
          created: '2026-02-01T00:00:00Z',
        }),
        ingress('theirs', [{ host: 'other.example.com', paths: [['/', 'Prefix', 'api']] }], {
          className: 'other',
        }),
      ],
      services: [...names, 'empty', 'flaky'].map((n) => service(n)),
      slices,
      secrets: [selfSigned('foo.example.com')],
    }),
  );
  const conf = renderNginxConf(model, {
    dir,
    httpPort,
    httpsPort,
    address: '127.0.0.1',
    fallbackCertificate: join(dir, 'certs', 'fallback.pem'),
    user: workerUser(dir),
    workers: 1,
  });
  await nginx?.apply(
    conf,
    Object.fromEntries(Object.entries(model.certificates).map(([k, c]) => [k, c.pem])),
  );
}

before(async () => {
  if (skip) return;
  for (const n of ['root', 'api', 'v2', 'exact', 'wild', 'any', 'default']) await backend(n);
  httpPort = await freePort();
  httpsPort = await freePort();
  fallbackPem = await ensureFallbackCertificate(join(dir, 'certs', 'fallback.pem'));
  nginx = new Nginx({ dir, log: silentLogger() });
  await configure({ deadPort: await freePort() });
});

after(async () => {
  await nginx?.stop();
  for (const s of backends.values()) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const table: [host: string, path: string, want: string][] = [
  ['foo.example.com', '/', 'root'],
  ['foo.example.com', '/x', 'root'],
  ['FOO.example.com', '/api', 'api'],
  ['foo.example.com', '/api', 'api'],
  ['foo.example.com', '/api/', 'api'],
  ['foo.example.com', '/api/x', 'api'],
  ['foo.example.com', '/apix', 'root'],
  ['foo.example.com', '/api/v2', 'v2'],
  ['foo.example.com', '/api/v2/z?q=1', 'v2'],
  ['foo.example.com', '/exact', 'exact'],
  ['foo.example.com', '/exact/', 'root'],
  ['foo.example.com', '/impl/x', 'exact'],
  ['a.wild.example.com', '/', 'wild'],
  ['exact.wild.example.com', '/', 'api'],
  ['a.b.wild.example.com', '/', 'default'],
  ['unknown.example.com', '/any/x', 'any'],
  ['unknown.example.com', '/', 'default'],
  ['other.example.com', '/', 'default'],
  ['empty.example.com', '/', '503'],
  ['gone.example.com', '/', '503'],
];
for (const [host, path, want] of table) {
  test(`${host}${path} -> ${want}`, { skip }, async () => assert.equal(await who(host, path), want));
}

test('forwarded headers reach the backend', { skip }, async () => {
  const r = JSON.parse((await get('foo.example.com', '/x', { 'x-forwarded-for': '6.6.6.6' })).body) as {
    headers: Record<string, string>;
  };
  assert.equal(r.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(r.headers['x-real-ip'], '127.0.0.1');
  assert.equal(r.headers['x-forwarded-proto'], 'http');
  assert.equal(r.headers['x-forwarded-host'], 'foo.example.com');
  assert.equal(r.headers['x-forwarded-port'], String(httpPort));
  assert.equal(r.headers.host, 'foo.example.com');
});

test('a dead endpoint is skipped: every request succeeds', { skip }, async () => {
  for (let i = 0; i < 6; i++) assert.equal(await who('foo.example.com', '/flaky'), 'api');
});

function peerCert(servername: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port: httpsPort, servername, rejectUnauthorized: false },
      () => {
        resolve(s.getPeerCertificate());
        s.end();
      },
    );
    s.on('error', reject);
  });
}

test('TLS: the Secret certificate by SNI, the fallback certificate otherwise', { skip }, async () => {
  assert.equal((await peerCert('foo.example.com')).subject.CN, 'foo.example.com');
  assert.equal((await peerCert('a.wild.example.com')).subject.CN, fallbackSubject);
  assert.ok(fallbackPem.includes('PRIVATE KEY'));
});

test('WebSocket upgrades pass through', { skip }, async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: httpPort,
      path: '/ws',
      headers: { host: 'a.wild.example.com', connection: 'Upgrade', upgrade: 'websocket' },
    });
    req.on('upgrade', (res, socket) => {
      assert.equal(res.statusCode, 101);
      socket.once('data', (b: Buffer) => {
        resolve(b.toString());
        socket.destroy();
      });
      socket.write('ping');
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(reply, 'wild:ping');
});

test('a reload keeps a request in flight', { skip }, async () => {
  const slow = get('foo.example.com', '/slow');
  await new Promise((r) => setTimeout(r, 100));
  await configure({ deadPort: await freePort() });
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.body) as { name: string }).name, 'root');
});

test('a configuration nginx rejects leaves the running one in place', { skip }, async () => {
  await assert.rejects(
    nginx?.apply('http { bad', {}) ?? Promise.resolve(),
    /checking the ingress nginx configuration/,
  );
  assert.equal(await who('foo.example.com', '/api'), 'api');
});
