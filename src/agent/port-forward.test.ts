import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { createWebSocketStream, WebSocket } from 'ws';
import { Session, type SpdyStream } from '../lib/spdy/session.ts';
import { forwardPorts, type LoopbackConn, podPortForwardHandler, tunnelProtocol } from './port-forward.ts';

// A pod stand-in: an echo server that upper-cases, and a port with nothing listening.
let echo: net.Server;
let echoPort = 0;
let closedPort = 0;
let server: http.Server;
let base = '';

before(async () => {
  echo = net.createServer((c) => {
    c.on('data', (d) => c.write(d.toString().toUpperCase()));
    c.on('end', () => c.end());
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const handler = podPortForwardHandler({
    podAddress: (_ns, name) =>
      name === 'web' ? { host: '127.0.0.1', uid: 'u-1' } : { code: 404, message: `pods "${name}" not found` },
  });
  server = http.createServer();
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    const [, , , , ns, , name] = (req.url ?? '').split('?')[0]?.split('/') ?? [];
    void handler(
      { req, url: new URL(req.url ?? '/', 'http://x'), namespace: ns, name: name ?? '' },
      socket,
      head,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => echo.close(r));
});

const path = (pod: string) => `/api/v1/namespaces/default/pods/${pod}/portforward`;

/** kubectl's fallback: POST with Upgrade: SPDY/3.1. */
async function spdyClient(pod: string): Promise<Session> {
  const sock = net.connect(Number(base.split(':')[1]), '127.0.0.1');
  sock.write(
    `POST ${path(pod)} HTTP/1.1\r\nHost: ${base}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
      'X-Stream-Protocol-Version: portforward.k8s.io\r\nContent-Length: 0\r\n\r\n',
  );
  return new Promise<Session>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head + buf.subarray(end).toString()));
      assert.match(head, /X-Stream-Protocol-Version: portforward\.k8s\.io/i);
      if (buf.length > end + 4) sock.unshift(buf.subarray(end + 4));
      resolve(new Session(sock, { server: false }));
    };
    sock.on('data', onData);
    sock.once('error', reject);
  });
}

/** kubectl's first choice: SPDY tunnelled in WebSocket binary messages. */
async function tunnelClient(pod: string): Promise<Session> {
  // The ws client refuses to offer a subprotocol with a "/" (not an RFC 7230 token); kubectl's
  // Go client does, so offer it through a raw header and check the answer by hand.
  const ws = new WebSocket(`ws://${base}${path(pod)}`, {
    headers: { 'Sec-WebSocket-Protocol': tunnelProtocol },
  });
  let answered = '';
  ws.once('upgrade', (res) => {
    answered = String(res.headers['sec-websocket-protocol'] ?? '');
    // Runs before the client's own check, which would refuse a protocol it did not offer itself.
    delete res.headers['sec-websocket-protocol'];
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  assert.equal(answered, tunnelProtocol);
  return new Session(createWebSocketStream(ws), { server: false });
}

async function readAll(s: SpdyStream): Promise<string> {
  let out = '';
  for await (const c of s) out += (c as Buffer).toString();
  return out;
}

/** What kubectl does for one local connection: error stream (closed at once), data stream, bytes. */
async function roundTrip(session: Session, port: number, id: number, payload: string) {
  const h = { streamtype: ['error'], port: [String(port)], requestid: [String(id)] };
  const error = await session.openStream(h, { fin: true });
  const data = await session.openStream({ ...h, streamtype: ['data'] });
  const errText = readAll(error);
  const reply = readAll(data);
  data.end(payload);
  return { data: await reply, error: await errText };
}

for (const [name, connect] of [
  ['plain SPDY upgrade', spdyClient],
  ['SPDY over WebSocket', tunnelClient],
] as const) {
  test(`${name}: two connections through one session, then a refused port`, async () => {
    const session = await connect('web');
    const [a, b] = await Promise.all([
      roundTrip(session, echoPort, 0, 'hello'),
      roundTrip(session, echoPort, 1, 'x'.repeat(100_000)),
    ]);
    assert.deepEqual(a, { data: 'HELLO', error: '' });
    assert.equal(b.data, 'X'.repeat(100_000));
    const refused = await roundTrip(session, closedPort, 2, 'nobody');
    assert.equal(refused.data, '');
    assert.match(
      refused.error,
      new RegExp(`error forwarding port ${closedPort} to pod web, uid u-1: .*ECONNREFUSED`),
    );
    session.close();
  });
}

test('an unknown pod is refused before the upgrade', async () => {
  await assert.rejects(spdyClient('nope'), /404 Not Found[\s\S]*pods \\"nope\\" not found/);
});

test('a stream of an unknown type is reset; the session keeps serving', async () => {
  const session = await spdyClient('web');
  await assert.rejects(
    session.openStream({ streamtype: ['bogus'], requestid: ['9'] }),
    /closed before its reply/,
  );
  assert.deepEqual(await roundTrip(session, echoPort, 3, 'ok'), { data: 'OK', error: '' });
  session.close();
});

test('a refused pod IP falls back to the pod loopback inside its namespace; refused there too is an error', async () => {
  const inside: string[] = [];
  // Stand-ins for nsenter + nc: "netns-up" reaches the echo server, "netns-down" exits 1 at once.
  const dialLoopback = (netns: string, port: number): LoopbackConn => {
    inside.push(`${netns}:${port}`);
    if (netns === 'netns-up') {
      const c = net.connect(echoPort, '127.0.0.1') as unknown as LoopbackConn;
      c.exited = new Promise((r) => c.once('close', () => r(0)));
      return c;
    }
    const out = new PassThrough();
    const d = Duplex.from({ readable: out, writable: new PassThrough() }) as LoopbackConn;
    d.exited = Promise.resolve(1);
    out.end();
    setImmediate(() => d.destroy());
    return d;
  };
  for (const [netns, want] of [
    ['netns-up', { data: 'INSIDE', error: '' }],
    ['netns-down', { data: '', error: 'refused there too' }],
  ] as const) {
    const [a, b] = [new PassThrough(), new PassThrough()];
    const server = new Session(Duplex.from({ readable: a, writable: b }), { server: true });
    const client = new Session(Duplex.from({ readable: b, writable: a }), { server: false });
    forwardPorts(server, { host: '127.0.0.1', pod: 'lo', uid: 'u', netns }, { dialLoopback });
    const got = await roundTrip(client, closedPort, 0, 'inside');
    assert.equal(got.data, want.data);
    assert.ok(got.error.includes(want.error), got.error);
    client.close();
  }
  assert.deepEqual(inside, [`netns-up:${closedPort}`, `netns-down:${closedPort}`]);
});
