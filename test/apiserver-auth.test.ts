import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Authorizer, TokenFile } from '../src/apiserver/auth.ts';
import { loadOrCreatePki, type Pki } from '../src/apiserver/pki.ts';
import { ApiServer } from '../src/apiserver/server.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { MemoryStore } from '../src/storage/memory.ts';

// In-process: token authentication, the authorization hook denying, public
// paths, and request limits.

let dir: string;
let pki: Pki;
let server: ApiServer;
const store = new MemoryStore();
const denyDeletes: Authorizer = {
  authorize: (a) => (a.verb === 'delete' ? { allowed: false, reason: 'deletes are off' } : { allowed: true }),
};

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'drv-apiserver-auth-'));
  pki = await loadOrCreatePki(path.join(dir, 'tls'));
  writeFileSync(path.join(dir, 'tokens'), 'sekret,alice,1001,"dev,ops"\n');
  server = new ApiServer({
    store,
    pki,
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    tokens: await TokenFile.load(path.join(dir, 'tokens')),
    authorizer: denyDeletes,
    bookmarkIntervalMs: 200,
    subresources: {
      http: {
        'pods/log': async (r, res) => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(`logs of ${r.namespace}/${r.name} for ${r.user.name}`);
        },
      },
      upgrade: {
        'pods/exec': async (r, socket) => {
          socket.end(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Name: ${r.name}\r\n\r\n`,
          );
        },
      },
    },
  });
  await server.start();
});

after(async () => {
  await server?.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(
  method: string,
  p: string,
  opts: { token?: string; body?: string } = {},
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}${p}`,
      {
        method,
        ca: pki.caCert,
        headers: {
          ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const cases: {
  name: string;
  method: string;
  path: string;
  token?: string;
  body?: string;
  code: number;
  match?: RegExp;
}[] = [
  { name: 'health is public', method: 'GET', path: '/readyz', code: 200, match: /^ok$/ },
  { name: 'version is public', method: 'GET', path: '/version', code: 200, match: /"minor":"32"/ },
  {
    name: 'anonymous API access is 401',
    method: 'GET',
    path: '/api/v1/namespaces',
    code: 401,
    match: /Unauthorized/,
  },
  { name: 'wrong token is 401', method: 'GET', path: '/api/v1/namespaces', token: 'nope', code: 401 },
  {
    name: 'token user can list',
    method: 'GET',
    path: '/api/v1/namespaces',
    token: 'sekret',
    code: 200,
    match: /"kube-system"/,
  },
  {
    name: 'token user can create',
    method: 'POST',
    path: '/api/v1/namespaces/default/configmaps',
    token: 'sekret',
    body: '{"metadata":{"name":"c"}}',
    code: 201,
  },
  {
    name: 'the authorizer denies with 403',
    method: 'DELETE',
    path: '/api/v1/namespaces/default/configmaps/c',
    token: 'sekret',
    code: 403,
    match:
      /User \\"alice\\" cannot delete resource \\"configmaps\\" in API group \\"\\" in the namespace \\"default\\": deletes are off/,
  },
  {
    name: 'malformed JSON is 400',
    method: 'POST',
    path: '/api/v1/namespaces/default/configmaps',
    token: 'sekret',
    body: '{',
    code: 400,
  },
  {
    name: 'oversized body is 413',
    method: 'POST',
    path: '/api/v1/namespaces/default/configmaps',
    token: 'sekret',
    body: JSON.stringify({ metadata: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } }),
    code: 413,
  },
  {
    name: 'wrong kind for the endpoint is 400',
    method: 'POST',
    path: '/api/v1/namespaces/default/secrets',
    token: 'sekret',
    body: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}',
    code: 400,
    match: /does not match the expected kind/,
  },
  { name: 'unknown resource is 404', method: 'GET', path: '/api/v1/nothings', token: 'sekret', code: 404 },
  {
    name: 'PUT on a collection is 405',
    method: 'PUT',
    path: '/api/v1/namespaces/default/configmaps',
    token: 'sekret',
    body: '{}',
    code: 405,
  },
];

for (const tc of cases) {
  test(tc.name, async () => {
    const r = await call(tc.method, tc.path, { token: tc.token, body: tc.body });
    assert.equal(r.code, tc.code, r.body.slice(0, 300));
    if (tc.match) assert.match(r.body, tc.match);
  });
}

function watchLines(
  p: string,
): Promise<{ type: string; object: { code?: number; metadata?: { name?: string } } }[]> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${server.url}${p}`,
      { ca: pki.caCert, headers: { Authorization: 'Bearer sekret' } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () =>
          resolve(
            body
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l)),
          ),
        );
      },
    );
    req.on('error', reject);
  });
}

test('watch: events after the resourceVersion, bookmarks, and the stream ends at timeoutSeconds', async () => {
  const rv = String(await store.currentRevision());
  const started = Date.now();
  const lines = watchLines(
    `/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${rv}`,
  );
  const create = await call('POST', '/api/v1/namespaces/default/configmaps', {
    token: 'sekret',
    body: '{"metadata":{"name":"watched"}}',
  });
  assert.equal(create.code, 201);
  const events = await lines;
  assert.ok(Date.now() - started >= 900, 'stream should last until timeoutSeconds');
  assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'watched'));
  assert.ok(events.some((e) => e.type === 'BOOKMARK'));
});

test('watch from a compacted resourceVersion gets 410 Expired', async () => {
  await store.compact(await store.currentRevision());
  const events = await watchLines('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1');
  assert.equal(events[0]?.type, 'ERROR');
  assert.equal(events[0]?.object.code, 410);
});

test('subresources served by other parts: pods/log over HTTP, pods/exec as an upgrade', async () => {
  const logs = await call('GET', '/api/v1/namespaces/default/pods/p1/log', { token: 'sekret' });
  assert.equal(logs.code, 200);
  assert.equal(logs.body, 'logs of default/p1 for alice');
  const upgraded = await new Promise<string | undefined>((resolve, reject) => {
    const req = https.request(`${server.url}/api/v1/namespaces/default/pods/p1/exec?command=ls`, {
      ca: pki.caCert,
      headers: { Authorization: 'Bearer sekret', Connection: 'Upgrade', Upgrade: 'websocket' },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.headers['x-name'] as string | undefined);
    });
    req.on('response', (res) => resolve(`status ${res.statusCode}`));
    req.on('error', reject);
    req.end();
  });
  assert.equal(upgraded, 'p1');
  const anonymous = await new Promise<number>((resolve, reject) => {
    const req = https.request(`${server.url}/api/v1/namespaces/default/pods/p1/attach`, {
      ca: pki.caCert,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
    });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('error', reject);
    req.end();
  });
  assert.equal(anonymous, 401);
});
