import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { readBody } from './client.ts';
import { http1 } from './http1.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drv-cli-http1-'));
const socketPath = path.join(dir, 's.sock');
const server = http.createServer(async (req, res) => {
  let body = '';
  for await (const c of req) body += c;
  if (req.url === '/chunked') {
    res.writeHead(200, { 'X-Echo': req.headers['transfer-encoding'] ?? '' });
    res.write('a'.repeat(70_000));
    setTimeout(() => res.end(`|${body.length}`), 5);
  } else if (req.url === '/length') {
    res.writeHead(200, { 'Content-Length': String(body.length + 2) });
    res.end(`<${body}>`);
  } else if (req.url === '/empty') {
    res.writeHead(204);
    res.end();
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"message":"page not found"}');
  }
});
server.on('upgrade', (_req, socket: Socket) => {
  socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly');
  socket.on('data', (d) => socket.write(d));
  socket.on('end', () => socket.end('bye'));
});

before(() => new Promise<void>((resolve) => server.listen(socketPath, resolve)));
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('chunked upload and chunked response across many reads', async () => {
  const body = Readable.from([Buffer.from('x'.repeat(100)), Buffer.from('y'.repeat(50))]);
  const res = await http1({ socketPath, method: 'POST', path: '/chunked', headers: {}, body });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-echo'], 'chunked');
  assert.equal((await readBody(res)).toString(), `${'a'.repeat(70_000)}|150`);
});

test('content-length response, header names lower-cased', async () => {
  const res = await http1({
    socketPath,
    method: 'PUT',
    path: '/length',
    headers: {},
    body: Buffer.from('hi'),
  });
  assert.equal(res.headers['content-length'], '4');
  assert.equal((await readBody(res)).toString(), '<hi>');
});

test('no body on 204 and HEAD; error statuses readable', async () => {
  const empty = await http1({
    socketPath,
    method: 'POST',
    path: '/empty',
    headers: {},
    body: Buffer.alloc(0),
  });
  assert.equal(empty.statusCode, 204);
  assert.equal((await readBody(empty)).length, 0);
  const head = await http1({ socketPath, method: 'HEAD', path: '/length', headers: {} });
  assert.equal((await readBody(head)).length, 0);
  const missing = await http1({ socketPath, method: 'GET', path: '/nope', headers: {} });
  assert.equal(missing.statusCode, 404);
  assert.equal((await readBody(missing)).toString(), '{"message":"page not found"}');
});

test('upgrade: bytes after the 101 come back as head, then the raw socket both ways', async () => {
  const res = await http1({
    socketPath,
    method: 'POST',
    path: '/attach',
    headers: {},
    body: Buffer.alloc(0),
    upgrade: true,
  });
  assert.equal(res.statusCode, 101);
  assert.ok(res.upgraded);
  const { socket, head } = res.upgraded;
  socket.end('ping');
  let rest = '';
  for await (const c of socket) rest += c;
  assert.equal(head.toString() + rest, 'earlypingbye');
});

test('an absent socket rejects with ENOENT', async () => {
  await assert.rejects(
    http1({ socketPath: path.join(dir, 'absent.sock'), method: 'GET', path: '/', headers: {} }),
    {
      code: 'ENOENT',
    },
  );
});
