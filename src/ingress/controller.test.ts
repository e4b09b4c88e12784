/**
 * The controller's glue over a FakeClient and a real nginx on loopback:
 * changes reach the data path, unrelated objects cause no reload, status is
 * published once and only by the node asked to. Skipped without nginx.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { FakeClient, InformerFactory, type KubeObject, resources } from '../client/index.ts';
import { silentLogger } from '../lib/logger.ts';
import { IngressController } from './controller.ts';
import { droverClass, ingress, service, slice } from './fixtures.ts';
import { ingressClassResource, ingressResource } from './model.ts';
import { findNginx } from './nginx.ts';
import { selfSignedCertArgs } from './tls.ts';

const skip = findNginx() ? false : 'nginx is not installed';
const dir = mkdtempSync(join(tmpdir(), 'drv-ingress-ctl-'));
const client = new FakeClient();
const informers = new InformerFactory(client);
const abort = new AbortController();
let controller: IngressController;
let backend: http.Server;
let backendPort = 0;
let httpPort = 0;
let httpsPort = 0;

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function get(host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port: httpPort, path, headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (b: Buffer) => {
          body += b.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  if (skip) return;
  backend = http.createServer((req, res) => res.end(`backend ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as AddressInfo).port;
  httpPort = await freePort();
  httpsPort = await freePort();
  client.seed(ingressClassResource, droverClass);
  client.seed(resources.nodes, {
    metadata: { name: 'n1' },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.7' }] },
  });
  client.seed(resources.services, service('web'), service('unrelated'));
  client.seed(resources.endpointSlices, slice('web', backendPort, ['127.0.0.1']));
  client.seed(ingressResource, ingress('web', [{ host: 'a.example.com', paths: [['/', 'Prefix', 'web']] }]));
  controller = new IngressController({
    client,
    informers,
    nodeName: 'n1',
    publishStatus: true,
    dir,
    httpPort,
    httpsPort,
    address: '127.0.0.1',
    log: silentLogger(),
    debounceMs: 10,
  });
  informers.start(abort.signal);
  await controller.start();
});

after(async () => {
  await controller?.stop();
  abort.abort();
  await informers.stop();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('serves the seeded Ingress and publishes the node IP in its status once', { skip }, async () => {
  assert.equal((await get('a.example.com', '/x')).body, 'backend /x');
  const published = await until('status', async () => {
    const ing = await client.get<KubeObject>(ingressResource, 'web', { namespace: 'default' });
    return JSON.stringify(ing.status?.loadBalancer) === JSON.stringify({ ingress: [{ ip: '192.0.2.7' }] });
  });
  assert.ok(published);
  await new Promise((r) => setTimeout(r, 100));
  const statusWrites = client.writes().filter((w) => w.subresource === 'status');
  assert.equal(statusWrites.length, 1, 'status is written only when it differs');
});

test('a new path applies without a restart; an unrelated Service changes nothing', { skip }, async () => {
  const before = controller.applied;
  await client.update(
    ingressResource,
    ingress('web', [
      {
        host: 'a.example.com',
        paths: [
          ['/', 'Prefix', 'web'],
          ['/gone', 'Exact', 'missing'],
        ],
      },
    ]),
  );
  await until('503 on the new path', async () => (await get('a.example.com', '/gone')).status === 503);
  assert.equal(controller.applied, before + 1);
  await client.update(resources.services, { ...service('unrelated', 81) });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(controller.applied, before + 1, 'no reload for a Service no Ingress uses');
});

test('losing the endpoints gives 503, getting them back restores the route', { skip }, async () => {
  await client.update(
    resources.endpointSlices,
    slice('web', backendPort, ['127.0.0.1'], { notReady: ['127.0.0.1'] }),
  );
  await until('503 without ready endpoints', async () => (await get('a.example.com')).status === 503);
  await client.update(resources.endpointSlices, slice('web', backendPort, ['127.0.0.1']));
  await until('the backend again', async () => (await get('a.example.com')).status === 200);
});

test('an Ingress of another class is ignored', { skip }, async () => {
  await client.create(
    ingressResource,
    ingress('theirs', [{ host: 'b.example.com', paths: [['/', 'Prefix', 'web']] }], { className: 'other' }),
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await get('b.example.com')).status, 404);
  const theirs = await client.get<KubeObject>(ingressResource, 'theirs', { namespace: 'default' });
  assert.equal(theirs.status?.loadBalancer, undefined);
});

test('a node that does not own the status fills only an empty one', { skip }, async () => {
  const other = new IngressController({
    client,
    informers,
    nodeName: 'n2',
    nodeIP: '192.0.2.99',
    publishStatus: false,
    dir: join(dir, 'n2'),
    httpPort: 0,
    httpsPort: 0,
    log: silentLogger(),
    debounceMs: 10,
  });
  await other.start();
  try {
    await client.create(
      ingressResource,
      ingress('fresh', [{ host: 'c.example.com', paths: [['/', 'Prefix', 'web']] }]),
    );
    const ips = async (name: string) => {
      const ing = await client.get<KubeObject>(ingressResource, name, { namespace: 'default' });
      return JSON.stringify(ing.status?.loadBalancer ?? {});
    };
    // Whoever comes first fills it; the owner then settles it on its own IP, and nobody flips it back.
    await until('the owner settles the status', async () => (await ips('fresh')).includes('192.0.2.7'));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await ips('fresh'), JSON.stringify({ ingress: [{ ip: '192.0.2.7' }] }));
    assert.equal(await ips('web'), JSON.stringify({ ingress: [{ ip: '192.0.2.7' }] }));
  } finally {
    await other.stop();
  }
});

function tlsSecret(name: string): KubeObject {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    selfSignedCertArgs({ subject: '/CN=t.example.com', days: 1, keyPath: key, certPath: crt }),
    { stdio: 'ignore' },
  );
  const b64 = (f: string) => readFileSync(f).toString('base64');
  return {
    metadata: { name: 't-tls', namespace: 'default' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(crt), 'tls.key': b64(key) },
  };
}

function servedFingerprint(): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect(
      { host: '127.0.0.1', port: httpsPort, servername: 't.example.com', rejectUnauthorized: false },
      () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      },
    );
    s.on('error', () => resolve(''));
  });
}

test('a rotated TLS Secret is served without any Ingress change', { skip }, async () => {
  const first = tlsSecret('one');
  await client.create(resources.secrets, first);
  await client.create(
    ingressResource,
    ingress('t', [{ host: 't.example.com', paths: [['/', 'Prefix', 'web']] }], {
      tls: [{ hosts: ['t.example.com'], secretName: 't-tls' }],
    }),
  );
  const fp = (s: KubeObject) =>
    new crypto.X509Certificate(Buffer.from((s.data as Record<string, string>)['tls.crt'] ?? '', 'base64'))
      .fingerprint256;
  await until('the first certificate', async () => (await servedFingerprint()) === fp(first));
  const second = tlsSecret('two');
  await client.update(resources.secrets, second);
  await until('the rotated certificate', async () => (await servedFingerprint()) === fp(second));
});
