/**
 * Raw HTTP against the Docker API server over the fake engine: headers,
 * version negotiation, error codes, chunked uploads, stdcopy framing, the
 * hijacked attach/exec streams and clients that go away mid-stream.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeEngine } from '../src/dockerapi/fake-engine.ts';
import { createDockerApiServer, type DockerApiServer } from '../src/dockerapi/server.ts';

let dir = '';
let sock = '';
let server: DockerApiServer;
let engine: FakeEngine;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(
  method: string,
  path: string,
  opts: { body?: string | Buffer | Buffer[]; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    if (Array.isArray(opts.body)) {
      // Several writes without Content-Length: Node sends them chunked.
      for (const b of opts.body) req.write(b);
      req.end();
    } else req.end(opts.body);
  });
}

const json = (r: Reply) => JSON.parse(r.body.toString());
const post = (path: string, body?: unknown) =>
  call('POST', path, {
    body: body === undefined ? '' : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

async function createContainer(cmd: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const r = await post('/v1.41/containers/create', { Image: 'busybox', Cmd: cmd, ...extra });
  assert.equal(r.status, 201, r.body.toString());
  return json(r).Id;
}

/** Splits stdcopy frames. */
function demux(buf: Buffer): { stream: number; text: string }[] {
  const out: { stream: number; text: string }[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const size = buf.readUInt32BE(off + 4);
    assert.deepEqual([...buf.subarray(off + 1, off + 4)], [0, 0, 0]);
    out.push({ stream: buf[off] ?? -1, text: buf.subarray(off + 8, off + 8 + size).toString() });
    off += 8 + size;
  }
  assert.equal(off, buf.length, 'trailing bytes after the last frame');
  return out;
}

/** Opens a raw connection, sends a request, and collects everything until the server closes. */
function rawExchange(head: string, body = '', stdin?: string): Promise<{ text: string; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(sock);
    s.setNoDelay(true);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      // Send stdin (then FIN) once the upgrade reply arrived.
      if (stdin !== undefined && Buffer.concat(chunks).includes('\r\n\r\n') && !s.writableEnded) s.end(stdin);
    });
    s.on('end', () => {
      const bytes = Buffer.concat(chunks);
      resolve({ text: bytes.toString('latin1'), bytes });
    });
    s.on('error', reject);
    s.write(head + body);
    if (stdin === undefined) s.end();
  });
}

function afterHead(bytes: Buffer): Buffer {
  return bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drv-dockerapi-http-'));
  sock = join(dir, 'docker.sock');
  engine = new FakeEngine();
  server = createDockerApiServer({ engine });
  await server.listen(sock);
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('socket is mode 0660 and a stale socket file is replaced', async () => {
  assert.equal((await stat(sock)).mode & 0o777, 0o660);
  const other = createDockerApiServer({ engine });
  await assert.rejects(other.listen(sock), /already serving/);
});

test('one server listens on a unix socket and TCP at once', async () => {
  const second = createDockerApiServer({ engine });
  const path = join(dir, 'second.sock');
  await second.listen(path);
  await second.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = second.port();
    assert.ok(port);
    const res = await fetch(`http://127.0.0.1:${port}/v1.41/version`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('api-version'), '1.41');
    assert.equal(((await res.json()) as { ApiVersion: string }).ApiVersion, '1.41');
  } finally {
    await second.close();
  }
  await assert.rejects(stat(path), /ENOENT/);
});

test('other parts can add routes (e.g. the builder)', async () => {
  const extra = createDockerApiServer({
    engine,
    routes: [
      {
        method: 'POST',
        path: '/build',
        handler: async (ctx) => {
          ctx.res!.writeHead(200, { 'Content-Type': 'application/json' });
          ctx.res!.end('{"stream":"built"}\r\n');
        },
      },
    ],
  });
  const path = join(dir, 'extra.sock');
  await extra.listen(path);
  try {
    const r = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: path, method: 'POST', path: '/v1.41/build' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r, 200);
  } finally {
    await extra.close();
  }
});

test('HEAD and GET /_ping carry Docker headers', async () => {
  const head = await call('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.headers['api-version'], '1.41');
  assert.equal(head.headers.ostype, 'linux');
  assert.equal(head.headers['docker-experimental'], 'false');
  assert.match(String(head.headers.server), /\(linux\)$/);
  assert.equal(head.headers['builder-version'], undefined);
  const get = await call('GET', '/_ping');
  assert.equal(get.body.toString(), 'OK');
  assert.equal(get.headers['cache-control'], 'no-cache, no-store, must-revalidate');
});

const versionCases = [
  { name: 'unversioned', path: '/version', status: 200, message: undefined },
  { name: 'current', path: '/v1.41/version', status: 200, message: undefined },
  { name: 'old but supported', path: '/v1.24/version', status: 200, message: undefined },
  {
    name: 'too new',
    path: '/v1.99/version',
    status: 400,
    message: 'client version 1.99 is too new. Maximum supported API version is 1.41',
  },
  { name: 'too old', path: '/v1.11/version', status: 400, message: /^client version 1\.11 is too old/ },
];
for (const tc of versionCases) {
  test(`version negotiation: ${tc.name}`, async () => {
    const r = await call('GET', tc.path);
    assert.equal(r.status, tc.status);
    assert.equal(r.headers['api-version'], '1.41');
    if (tc.status === 200) {
      assert.equal(json(r).ApiVersion, '1.41');
      assert.equal(json(r).MinAPIVersion, '1.12');
    } else if (typeof tc.message === 'string') assert.equal(json(r).message, tc.message);
    else assert.match(r.body.toString(), tc.message as RegExp);
  });
}

const errorCases = [
  { name: 'unknown route', method: 'GET', path: '/v1.41/nosuch', status: 404, message: 'page not found' },
  {
    name: 'unknown container',
    method: 'GET',
    path: '/v1.41/containers/nope/json',
    status: 404,
    message: 'No such container: nope',
  },
  { name: 'unknown image', method: 'GET', path: '/images/nope/json', status: 404, message: /No such image/ },
  {
    name: 'unknown network',
    method: 'GET',
    path: '/networks/nope',
    status: 404,
    message: 'network nope not found',
  },
  {
    name: 'unknown volume',
    method: 'GET',
    path: '/volumes/nope',
    status: 404,
    message: 'get nope: no such volume',
  },
  {
    name: 'unknown exec',
    method: 'GET',
    path: '/exec/nope/json',
    status: 404,
    message: 'No such exec instance: nope',
  },
  {
    name: 'bad filters',
    method: 'GET',
    path: '/containers/json?filters=%7B',
    status: 400,
    message: /invalid filter/,
  },
  {
    name: 'bad escape',
    method: 'GET',
    path: '/containers/%E0%A4%A/json',
    status: 400,
    message: /invalid escape/,
  },
  {
    name: 'bad boolean',
    method: 'GET',
    path: '/containers/json?all=maybe',
    status: 400,
    message: /invalid boolean/,
  },
];
for (const tc of errorCases) {
  test(`errors: ${tc.name}`, async () => {
    const r = await call(tc.method, tc.path);
    assert.equal(r.status, tc.status);
    assert.equal(r.headers['content-type'], 'application/json');
    if (typeof tc.message === 'string') assert.equal(json(r).message, tc.message);
    else assert.match(json(r).message, tc.message);
  });
}

test('invalid JSON bodies are 400 and the server keeps serving', async () => {
  const r = await call('POST', '/v1.41/containers/create', {
    body: '{"Image": "busybox",',
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(r.status, 400);
  assert.match(json(r).message, /^invalid JSON in request body/);
  const noImage = await post('/v1.41/containers/create', { Cmd: ['true'] });
  assert.equal(noImage.status, 400);
  const badCmd = await post('/v1.41/containers/create', { Image: 'busybox', Cmd: [1, 2] });
  assert.equal(badCmd.status, 400);
  assert.equal((await call('GET', '/_ping')).status, 200);
});

test('create accepts a bare-string Cmd, start twice is 304, stop twice is 304', async () => {
  const id = await createContainer('sleep' as unknown as string[]);
  const inspect = json(await call('GET', `/v1.41/containers/${id}/json`));
  assert.deepEqual(inspect.Config.Cmd, ['sleep']);
  assert.equal((await post(`/v1.41/containers/${id}/start`)).status, 204);
  assert.equal((await post(`/v1.41/containers/${id}/start`)).status, 304);
  assert.equal((await post(`/v1.41/containers/${id}/stop?t=1`)).status, 204);
  assert.equal((await post(`/v1.41/containers/${id}/stop`)).status, 304);
  assert.equal((await call('DELETE', `/v1.41/containers/${id}?v=False&link=False&force=True`)).status, 204);
});

test('container list takes both filter encodings', async () => {
  const id = await createContainer(['true'], { Labels: { 'com.docker.compose.project': 'p1' } });
  const goForm = encodeURIComponent('{"label":{"com.docker.compose.project=p1":true}}');
  const pyForm = encodeURIComponent('{"label": ["com.docker.compose.project=p1"], "status": ["created"]}');
  for (const f of [goForm, pyForm]) {
    const r = await call('GET', `/v1.41/containers/json?all=1&limit=-1&filters=${f}`);
    assert.deepEqual(
      json(r).map((c: { Id: string }) => c.Id),
      [id],
    );
  }
  await call('DELETE', `/v1.41/containers/${id}`);
});

test('logs are stdcopy-framed without a TTY and raw with one', async () => {
  const plain = await createContainer(['sh', '-c', 'echo out; echo err >&2']);
  await post(`/v1.41/containers/${plain}/start`);
  await post(`/v1.41/containers/${plain}/wait`);
  const r = await call('GET', `/v1.41/containers/${plain}/logs?stdout=1&stderr=1`);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.deepEqual(demux(r.body), [
    { stream: 1, text: 'out\n' },
    { stream: 2, text: 'err\n' },
  ]);
  const onlyErr = await call('GET', `/v1.41/containers/${plain}/logs?stdout=0&stderr=1`);
  assert.deepEqual(demux(onlyErr.body), [{ stream: 2, text: 'err\n' }]);
  const neither = await call('GET', `/v1.41/containers/${plain}/logs`);
  assert.equal(neither.status, 400);
  const newer = await call('GET', `/v1.42/containers/${plain}/logs?stdout=1`);
  assert.equal(newer.status, 400, 'v1.42 is above what we advertise');

  const tty = await createContainer(['echo', 'hi'], { Tty: true });
  await post(`/v1.41/containers/${tty}/start`);
  await post(`/v1.41/containers/${tty}/wait`);
  const raw = await call('GET', `/v1.41/containers/${tty}/logs?stdout=1&stderr=1`);
  assert.equal(raw.body.toString(), 'hi\r\n');
});

test('wait sends its status line at once and the body at exit', async () => {
  const id = await createContainer(['sleep']);
  await post(`/v1.41/containers/${id}/start`);
  const headers = await new Promise<{ status: number; body: Promise<string> }>((resolve, reject) => {
    const req = request({
      socketPath: sock,
      method: 'POST',
      path: `/v1.41/containers/${id}/wait?condition=not-running`,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const body = new Promise<string>((r) => res.on('end', () => r(Buffer.concat(chunks).toString())));
      resolve({ status: res.statusCode ?? 0, body });
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(headers.status, 200);
  const running = json(await call('GET', `/v1.41/containers/${id}/json`));
  assert.equal(running.State.Running, true, 'the wait answered before the container exited');
  await post(`/v1.41/containers/${id}/kill`);
  assert.deepEqual(JSON.parse(await headers.body), { Error: null, StatusCode: 137 });
  const bad = await post(`/v1.41/containers/${id}/wait?condition=whenever`);
  assert.equal(bad.status, 400);
  await call('DELETE', `/v1.41/containers/${id}`);
});

test('chunked tar upload reaches the engine and archive GET/HEAD carry the stat header', async () => {
  const id = await createContainer(['sleep']);
  const parts = [Buffer.from('first-chunk;'), Buffer.from('second-chunk')];
  const put = await call('PUT', `/v1.41/containers/${id}/archive?path=%2Ftmp&noOverwriteDirNonDir=true`, {
    body: parts,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  assert.equal(put.status, 200);
  const get = await call('GET', `/v1.41/containers/${id}/archive?path=%2Ftmp%2Fuploaded.tar`);
  assert.equal(get.body.toString(), 'first-chunk;second-chunk');
  const head = await call('HEAD', `/v1.41/containers/${id}/archive?path=%2Ftmp`);
  const statJson = JSON.parse(
    Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString(),
  );
  assert.equal(statJson.name, 'tmp');
  assert.equal(statJson.mode, 0x80000000 + 0o755, 'a directory in Go os.FileMode bits, not a negative int32');
  const missing = await call('HEAD', `/v1.41/containers/${id}/archive?path=%2Fnonexist`);
  assert.equal(missing.status, 404);
  await call('DELETE', `/v1.41/containers/${id}?force=1`);
});

test('attach hijacks with 101 UPGRADED, streams frames, closes at exit', async () => {
  const id = await createContainer(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  const exchange = rawExchange(
    `POST /v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n` +
      'Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n\r\n',
  );
  // The attach is armed before start: the client half-closes at once (no stdin), output must still come.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await post(`/v1.41/containers/${id}/start`)).status, 204);
  const { text, bytes } = await exchange;
  assert.match(text, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.match(text, /Content-Type: application\/vnd\.docker\.raw-stream\r\n/);
  assert.match(text, /Upgrade: tcp\r\n/);
  assert.deepEqual(demux(afterHead(bytes)), [
    { stream: 1, text: 'out\n' },
    { stream: 2, text: 'err\n' },
  ]);
  const unknown = await rawExchange(
    'POST /v1.41/containers/nope/attach?stream=1 HTTP/1.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  assert.match(unknown.text, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(unknown.text, /\{"message":"No such container: nope"\}/);
});

test('exec start: JSON body before the raw stream, stdin EOF from the half-close, exit code in inspect', async () => {
  const id = await createContainer(['sleep']);
  await post(`/v1.41/containers/${id}/start`);
  const ex = json(
    await post(`/v1.41/containers/${id}/exec`, {
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Cmd: ['cat'],
    }),
  ).Id;
  const body = '{"Detach":false,"Tty":false}';
  const { bytes, text } = await rawExchange(
    `POST /v1.41/exec/${ex}/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    body,
    'hello-stdin\n',
  );
  assert.match(text, /^HTTP\/1\.1 101 UPGRADED/);
  assert.deepEqual(demux(afterHead(bytes)), [{ stream: 1, text: 'hello-stdin\n' }]);
  const info = json(await call('GET', `/v1.41/exec/${ex}/json`));
  assert.equal(info.ExitCode, 0);
  assert.equal(info.Running, false);

  // stdin sent in the same write as the request, FIN at once: nothing may be lost.
  const ex2 = json(
    await post(`/v1.41/containers/${id}/exec`, { AttachStdin: true, AttachStdout: true, Cmd: ['cat'] }),
  ).Id;
  const early = await rawExchange(
    `POST /v1.41/exec/${ex2}/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    `${body}early-stdin\n`,
  );
  assert.deepEqual(demux(afterHead(early.bytes)), [{ stream: 1, text: 'early-stdin\n' }]);

  const noCmd = await post(`/v1.41/containers/${id}/exec`, { Cmd: [] });
  assert.equal(noCmd.status, 400);
  assert.equal(json(noCmd).message, 'No exec command specified');
  const detached = json(await post(`/v1.41/containers/${id}/exec`, { Cmd: ['sleep', '1'] })).Id;
  const d = await post(`/v1.41/exec/${detached}/start`, { Detach: true, Tty: false });
  assert.equal(d.status, 200);
  assert.equal(d.headers['content-length'], '0');
  await call('DELETE', `/v1.41/containers/${id}?force=1`);
});

test('detach keys end the attach and leave the container running', async () => {
  const id = await createContainer(['cat'], { OpenStdin: true, AttachStdin: true });
  await post(`/v1.41/containers/${id}/start`);
  const s = connect(sock);
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve) => s.on('end', resolve));
  let sentKeys = false;
  s.on('data', (c: Buffer) => {
    chunks.push(c);
    const all = Buffer.concat(chunks);
    if (!sentKeys && all.includes('\r\n\r\n') && all.includes('typed\n')) {
      sentKeys = true;
      s.write('\x10\x11'); // ctrl-p ctrl-q
    }
  });
  s.write(
    `POST /v1.41/containers/${id}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\n` +
      'Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\ntyped\n',
  );
  await ended;
  s.destroy();
  assert.deepEqual(demux(afterHead(Buffer.concat(chunks))), [{ stream: 1, text: 'typed\n' }]);
  assert.equal(json(await call('GET', `/v1.41/containers/${id}/json`)).State.Running, true);
  await call('DELETE', `/v1.41/containers/${id}?force=1`);
});

test('attach without Upgrade (old clients) gets 200 and the raw stream until close', async () => {
  const id = await createContainer(['sleep']);
  await post(`/v1.41/containers/${id}/start`);
  const ex = json(
    await post(`/v1.41/containers/${id}/exec`, { AttachStdout: true, Cmd: ['echo', 'old-style'] }),
  ).Id;
  const body = '{"Detach":false,"Tty":true}';
  const { text } = await rawExchange(
    `POST /v1.24/exec/${ex}/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    body,
  );
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\n\r\nold-style\r\n$/);
  await call('DELETE', `/v1.41/containers/${id}?force=1`);
});

test('clients leaving mid-stream release the engine streams; the server stays healthy', async () => {
  const before = engine.liveEventStreams();
  const id = await createContainer(['sleep']);
  await post(`/v1.41/containers/${id}/start`);
  for (const path of [
    '/v1.41/events',
    `/v1.41/containers/${id}/logs?follow=1&stdout=1`,
    `/v1.41/containers/${id}/stats`,
  ]) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: sock, method: 'GET', path }, (res) => {
        assert.equal(res.statusCode, 200);
        req.destroy();
        resolve();
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
  }
  const deadline = Date.now() + 2000;
  while (engine.liveEventStreams() !== before && Date.now() < deadline)
    await new Promise((r) => setImmediate(r));
  assert.equal(engine.liveEventStreams(), before);
  assert.equal((await call('GET', '/_ping')).status, 200);
  await call('DELETE', `/v1.41/containers/${id}?force=1`);
});

test('events stream NDJSON with filters and end at until', async () => {
  const since = Date.now() / 1000 - 1;
  await post('/v1.41/volumes/create', { Name: 'drv-http-vol' });
  const until = (Date.now() / 1000 + 0.05).toFixed(3);
  const filters = encodeURIComponent('{"type":{"volume":true}}');
  const r = await call('GET', `/v1.41/events?since=${since}&until=${until}&filters=${filters}`);
  const lines = r.body
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(lines.some((e) => e.Type === 'volume' && e.Action === 'create' && e.Actor.ID === 'drv-http-vol'));
  assert.ok(lines.every((e) => e.Type === 'volume'));
  assert.equal((await call('DELETE', '/v1.41/volumes/drv-http-vol')).status, 204);
});

test('live events arrive as they happen, without history', async () => {
  const first = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'GET', path: '/v1.41/events' }, (res) => {
      assert.equal(res.statusCode, 200);
      void post('/v1.41/volumes/create', { Name: 'drv-live-vol' });
      res.once('data', (c: Buffer) => {
        req.destroy();
        resolve(c.toString());
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
  const ev = JSON.parse(first.trim().split('\n')[0] ?? '');
  assert.deepEqual([ev.Type, ev.Action, ev.Actor.ID], ['volume', 'create', 'drv-live-vol']);
  assert.equal(typeof ev.timeNano, 'number');
  assert.equal((await call('DELETE', '/v1.41/volumes/drv-live-vol')).status, 204);
});

test('volumes, networks and prune keep Docker shapes', async () => {
  const vols = json(await call('GET', '/v1.41/volumes'));
  assert.deepEqual(Object.keys(vols).sort(), ['Volumes', 'Warnings']);
  assert.equal(vols.Warnings, null);
  const net = await post('/v1.41/networks/create', { Name: 'drv-http-net', CheckDuplicate: true });
  assert.equal(net.status, 201);
  assert.deepEqual(Object.keys(json(net)).sort(), ['Id', 'Warning']);
  assert.equal((await post('/v1.41/networks/create', { Name: 'drv-http-net' })).status, 409);
  assert.equal((await call('DELETE', '/v1.41/networks/drv-http-net')).status, 204);
  assert.deepEqual(json(await post('/v1.41/networks/prune')), { NetworksDeleted: null });
  assert.deepEqual(json(await post('/v1.41/volumes/prune')), { VolumesDeleted: [], SpaceReclaimed: 0 });
});

test('pull answers 200 with an in-stream error until a registry client exists', async () => {
  const r = await call('POST', '/v1.41/images/create?fromImage=docker.io%2Flibrary%2Fnosuch&tag=latest', {
    headers: { 'X-Registry-Auth': 'e30=' },
  });
  assert.equal(r.status, 200);
  const msg = JSON.parse(r.body.toString().split('\r\n')[0] ?? '');
  assert.match(msg.error, /^registry not available/);
  assert.equal(msg.errorDetail.message, msg.error);
});
