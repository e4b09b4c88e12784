import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'node:test';
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../lib/errors.ts';
import { errorFromStatus, GoneError, statusOf } from './errors.ts';
import { HttpClient } from './http-client.ts';
import { connectionFromKubeconfig } from './kubeconfig.ts';
import { resources } from './resources.ts';

const mapping: { code: number; reason?: string; want: new (...a: never[]) => Error }[] = [
  { code: 404, reason: 'NotFound', want: NotFoundError },
  { code: 409, reason: 'AlreadyExists', want: AlreadyExistsError },
  { code: 409, reason: 'Conflict', want: ConflictError },
  { code: 410, reason: 'Expired', want: GoneError },
  { code: 422, reason: 'Invalid', want: InvalidError },
  { code: 400, reason: 'BadRequest', want: InvalidError },
  { code: 401, want: UnauthorizedError },
  { code: 403, want: ForbiddenError },
  { code: 429, want: UnavailableError },
  { code: 503, want: UnavailableError },
];
for (const tc of mapping) {
  test(`status ${tc.code} ${tc.reason ?? ''} maps to ${tc.want.name}`, () => {
    const status = { kind: 'Status', code: tc.code, reason: tc.reason, message: 'm' };
    const err = errorFromStatus(tc.code, status, 'doing x');
    assert.ok(err instanceof tc.want);
    assert.equal(err.message, 'doing x: m');
    assert.deepEqual(statusOf(err), status);
  });
}

const paths: { args: Parameters<typeof HttpClient.pathOf>; want: string }[] = [
  { args: [resources.pods, 'default'], want: '/api/v1/namespaces/default/pods' },
  { args: [resources.pods], want: '/api/v1/pods' },
  { args: [resources.pods, 'ns', 'web', 'binding'], want: '/api/v1/namespaces/ns/pods/web/binding' },
  { args: [resources.nodes, 'ignored', 'n1'], want: '/api/v1/nodes/n1' },
  {
    args: [resources.deployments, 'a', 'd', 'scale'],
    want: '/apis/apps/v1/namespaces/a/deployments/d/scale',
  },
  {
    args: [resources.leases, 'kube-system', 'l'],
    want: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l',
  },
];
for (const tc of paths) test(`path ${tc.want}`, () => assert.equal(HttpClient.pathOf(...tc.args), tc.want));

test('kubeconfig: current context, inline data and token', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const text = `
apiVersion: v1
kind: Config
current-context: b
clusters:
- name: c1
  cluster: { server: 'https://10.0.0.1:6443', certificate-authority-data: '${b64('CA')}' }
users:
- name: u1
  user: { client-certificate-data: '${b64('CERT')}', client-key-data: '${b64('KEY')}' }
- name: u2
  user: { token: 'secret' }
contexts:
- name: a
  context: { cluster: c1, user: u1 }
- name: b
  context: { cluster: c1, user: u2 }
`;
  assert.deepEqual(await connectionFromKubeconfig(text, '/'), {
    server: 'https://10.0.0.1:6443',
    ca: 'CA',
    cert: undefined,
    key: undefined,
    token: 'secret',
    insecureSkipTlsVerify: false,
  });
  const a = await connectionFromKubeconfig(text, '/', 'a');
  assert.equal(a.cert, 'CERT');
  assert.equal(a.key, 'KEY');
  await assert.rejects(connectionFromKubeconfig(text, '/', 'missing'), InvalidError);
});

test('watch decodes chunked events, fills kind, and turns an ERROR 410 event into GoneError', async () => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    const ev = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '5' } } });
    res.write(ev.slice(0, 10));
    res.write(`${ev.slice(10)}\n`);
    res.end(
      `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } })}\n`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = new HttpClient({ server: `http://127.0.0.1:${port}`, token: 't0k' });
  try {
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const ev of client.watch(resources.pods, {
        namespace: 'x',
        resourceVersion: '4',
        labelSelector: 'a=b',
      })) {
        got.push(`${ev.type} ${ev.object.kind} ${ev.object.metadata.name}`);
      }
    }, GoneError);
    assert.deepEqual(got, ['ADDED Pod a']);
    assert.deepEqual(seen, [
      'GET /api/v1/namespaces/x/pods?watch=1&labelSelector=a%3Db&resourceVersion=4 Bearer t0k',
    ]);
    await assert.rejects(client.get(resources.pods, 'a'), UnavailableError, 'an undecodable body');
  } finally {
    client.close();
    server.close();
  }
});

test('connection refused is UnavailableError', async () => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const client = new HttpClient({ server: `http://127.0.0.1:${port}` });
  await assert.rejects(client.list(resources.pods), UnavailableError);
  client.close();
});

test('requests and watches that get no answer fail with UnavailableError after timeoutMs', async () => {
  const server = http.createServer(() => {
    // never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = new HttpClient({ server: `http://127.0.0.1:${port}` }, { timeoutMs: 100 });
  try {
    await assert.rejects(client.get(resources.nodes, 'n'), UnavailableError);
    await assert.rejects(async () => {
      for await (const _ of client.watch(resources.nodes)) {
        // no events expected
      }
    }, UnavailableError);
  } finally {
    client.close();
    server.closeAllConnections();
    server.close();
  }
});
