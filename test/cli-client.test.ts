/**
 * End to end through bin/drover: a fake Docker Engine API server on a temporary
 * unix socket plays the daemon's side of the captured docker flows (ping,
 * create, hijacked attach with stdcopy frames, wait, start, exec), and the
 * test checks what the CLI prints, where, and with which exit code.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { encodeFrame } from '../src/cli/docker/stdcopy.ts';

const bin = path.join(import.meta.dirname, '..', 'bin', 'drover');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drv-cli-test-'));
const socketPath = path.join(dir, 'docker.sock');
const id = 'c0ffee'.padEnd(64, '0');
const requests: string[] = [];

/** Per-container script: what the "process" writes and how it exits. */
interface Script {
  frames: [1 | 2, string][];
  exitCode: number;
  echoStdin?: boolean;
  startError?: string;
}
const scripts: Record<string, Script> = {
  busybox: {
    frames: [
      [1, 'out\n'],
      [2, 'err\n'],
    ],
    exitCode: 3,
  },
  cat: { frames: [], exitCode: 0, echoStdin: true },
  badcmd: {
    frames: [],
    exitCode: 0,
    startError:
      'failed to create shim task: exec: "/nonexist": stat /nonexist: no such file or directory: unknown',
  },
};
let current: Script | undefined;
let attachSocket: Socket | undefined;
let waitRes: http.ServerResponse | undefined;
let lastCreateBody: Record<string, unknown> | undefined;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
  res.end(JSON.stringify(body));
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data ? (JSON.parse(data) as Record<string, unknown>) : {};
}

/** The "process": writes its frames to the attach socket, then exits (closes attach, answers wait). */
function runProcess(script: Script): void {
  const sock = attachSocket;
  const finish = () => {
    sock?.end();
    waitRes?.end(JSON.stringify({ Error: null, StatusCode: script.exitCode }));
  };
  for (const [stream, text] of script.frames) sock?.write(encodeFrame(stream, Buffer.from(text)));
  if (script.echoStdin && sock) {
    sock.on('data', (d: Buffer) => sock.write(encodeFrame(1, Buffer.from(d.toString().toUpperCase()))));
    sock.on('end', finish);
  } else {
    finish();
  }
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(`${req.method} ${url.pathname}${url.search}`);
  const p = url.pathname.replace(/^\/v1\.41/, '');
  if (p === '/_ping') {
    res.writeHead(200, { 'Api-Version': '1.41', 'Content-Length': '0' });
    res.end();
  } else if (p === '/version') {
    json(res, 200, {
      Version: '0.0.0-fake',
      ApiVersion: '1.41',
      MinAPIVersion: '1.12',
      Os: 'linux',
      Arch: 'amd64',
    });
  } else if (p === '/containers/json') {
    json(res, 200, [
      {
        Id: id,
        Names: ['/web1'],
        Image: 'busybox',
        Command: 'httpd -f -p 80 -h /var/www',
        Created: Math.trunc(Date.now() / 1000) - 5,
        State: 'running',
        Status: 'Up 5 seconds',
        Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 18080, Type: 'tcp' }],
      },
    ]);
  } else if (p === '/containers/create') {
    const body = await readJson(req);
    lastCreateBody = body;
    const script = scripts[String(body.Image)];
    if (!script) return json(res, 404, { message: `No such image: ${String(body.Image)}:latest` });
    current = script;
    json(res, 201, { Id: id, Warnings: [] });
  } else if (p === '/images/create') {
    json(res, 404, { message: 'pull access denied for nosuch: repository does not exist' });
  } else if (p === `/containers/${id}/wait`) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    waitRes = res;
  } else if (p === `/containers/${id}/start`) {
    if (current?.startError) return json(res, 400, { message: current.startError });
    res.writeHead(204);
    res.end();
    if (current) runProcess(current);
  } else if (p === '/containers/web1/json') {
    json(res, 200, { Id: id, Config: { Tty: false }, State: { Running: true, Paused: false } });
  } else if (p === '/containers/web1/exec') {
    json(res, 201, { Id: 'e'.repeat(64) });
  } else if (p === `/exec/${'e'.repeat(64)}/json`) {
    json(res, 200, { ID: 'e'.repeat(64), Running: false, ExitCode: 7 });
  } else {
    json(res, 404, { message: 'page not found' });
  }
});

const hijacked = new Set<Socket>();
server.on('upgrade', (req, socket: Socket) => {
  hijacked.add(socket);
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(`UPGRADE ${req.method} ${url.pathname}${url.search}`);
  socket.write(
    'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  if (url.pathname.includes('/exec/')) {
    socket.write(encodeFrame(2, Buffer.from('execerr\n')));
    socket.write(encodeFrame(1, Buffer.from('execout\n')));
    socket.end();
  } else {
    attachSocket = socket;
  }
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
after(() => {
  // Hijacked sockets are no longer the server's: close them, or close() would wait for them forever.
  for (const s of hijacked) s.destroy();
  server.closeAllConnections();
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function drover(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-H', `unix://${socketPath}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

test('run: attach, wait, start in docker order; stdout/stderr demultiplexed; exit code passes through', async () => {
  requests.length = 0;
  const r = await drover(['run', '--rm', 'busybox', 'sh', '-c', 'echo -x']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 3);
  const order = requests.filter((x) => !x.startsWith('HEAD'));
  assert.deepEqual(order, [
    'POST /v1.41/containers/create',
    `UPGRADE POST /v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1`,
    `POST /v1.41/containers/${id}/wait?condition=removed`,
    `POST /v1.41/containers/${id}/start`,
  ]);
  assert.deepEqual(
    lastCreateBody?.Cmd,
    ['sh', '-c', 'echo -x'],
    'everything after the image goes to the container',
  );
});

test('run -i: stdin is forwarded and its EOF half-closes the attach socket', async () => {
  const r = await drover(['run', '-i', 'cat'], 'hello\n');
  assert.equal(r.stdout, 'HELLO\n');
  assert.equal(r.code, 0);
  assert.ok(requests.some((x) => x.includes('attach?stream=1&stdin=1&stdout=1&stderr=1')));
});

test('run -d prints the container ID', async () => {
  const r = await drover(['run', '-d', 'busybox']);
  assert.equal(r.stdout, `${id}\n`);
  assert.equal(r.code, 0);
});

test('run: a missing command at start exits 127 with the daemon message', async () => {
  const r = await drover(['run', 'badcmd']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /^drover: Error response from daemon: .*no such file or directory/);
});

test('run: an image that cannot be found or pulled exits 125', async () => {
  const r = await drover(['run', 'nosuch']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Unable to find image 'nosuch:latest' locally/);
  assert.match(r.stderr, /drover: Error response from daemon: pull access denied/);
  assert.ok(requests.includes('POST /v1.41/images/create?fromImage=docker.io%2Flibrary%2Fnosuch&tag=latest'));
});

test('exec: output demultiplexed, exit code from the exec inspect', async () => {
  const r = await drover(['exec', 'web1', 'sh', '-c', 'exit 7']);
  assert.equal(r.stdout, 'execout\n');
  assert.equal(r.stderr, 'execerr\n');
  assert.equal(r.code, 7);
});

test('ps renders docker-style columns', async () => {
  const r = await drover(['ps']);
  assert.equal(r.code, 0);
  const [header, row] = r.stdout.split('\n');
  assert.match(header ?? '', /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.match(
    row ?? '',
    /^c0ffee000000\s+busybox\s+"httpd -f -p 80 -h \/…"\s+\d seconds ago\s+Up 5 seconds\s+127\.0\.0\.1:18080->80\/tcp\s+web1$/,
  );
  const q = await drover(['ps', '-q', '--filter', 'name=web1']);
  assert.equal(q.stdout, 'c0ffee000000\n');
  assert.ok(
    requests.includes('GET /v1.41/containers/json?filters=%7B%22name%22%3A%7B%22web1%22%3Atrue%7D%7D'),
  );
});

test('ps --format with {{json .}} and a table directive', async () => {
  const r = await drover(['ps', '--format', '{{.Names}} {{json .State}}']);
  assert.equal(r.stdout, 'web1 "running"\n');
  const t = await drover(['ps', '--format', 'table {{.ID}}\\t{{.Names}}']);
  assert.equal(t.stdout, 'CONTAINER ID   NAMES\nc0ffee000000   web1\n');
});

test('daemon errors print "Error response from daemon" and exit 1', async () => {
  const r = await drover(['logs', 'nosuch']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: page not found\n');
});

test('an unreachable engine says how to start it', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(bin, ['-H', `unix://${dir}/absent.sock`, 'ps']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /Cannot connect to the Drover engine at unix:\/\/.*absent\.sock: is `drover engine` running\?/,
  );
});

test('version prints client and server', async () => {
  const r = await drover(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Server:\n Engine:\n {2}Version: +0\.0\.0-fake/);
});
