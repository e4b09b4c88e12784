import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { test } from 'node:test';
import { encodeFrame, type Frame, FrameParser } from './frames.ts';
import { Session, type SpdyStream } from './session.ts';

/** Two byte streams joined crosswise: what one writes the other reads. */
function pipePair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  const pair: [Duplex, Duplex] = [
    Duplex.from({ readable: ba, writable: ab }),
    Duplex.from({ readable: ab, writable: ba }),
  ];
  // Destroying one end aborts the streams it shares with the other.
  for (const d of pair) d.on('error', () => undefined);
  return pair;
}

/** A raw peer: writes frames, collects the frames the session sends. */
function rawPeer(): { session: Session; send(f: Frame): void; frames: Frame[] } {
  const [a, b] = pipePair();
  const session = new Session(a, { server: true });
  const parser = new FrameParser();
  const frames: Frame[] = [];
  b.on('data', (c: Buffer) => frames.push(...parser.push(c)));
  return { session, send: (f) => b.write(encodeFrame(f)), frames };
}

async function until<T>(what: string, fn: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('session: streams both ways, FIN ends the readable side, headers round-trip', async () => {
  const [a, b] = pipePair();
  const server = new Session(a, { server: true });
  const client = new Session(b, { server: false });
  const accepted = new Promise<SpdyStream>((resolve) => server.once('stream', resolve));
  const opening = client.openStream({ streamtype: ['data'], port: ['80'] });
  const s = await accepted;
  assert.deepEqual(s.headers, { streamtype: ['data'], port: ['80'] });
  assert.equal(s.id % 2, 1, 'client streams are odd');
  await s.reply({ ok: ['yes'] });
  const c = await opening;
  assert.deepEqual(c.headers, { ok: ['yes'] });
  c.end(Buffer.alloc(100_000, 1));
  let got = 0;
  for await (const chunk of s) got += (chunk as Buffer).length;
  assert.equal(got, 100_000);
  s.end('bye');
  let back = '';
  for await (const chunk of c) back += String(chunk);
  assert.equal(back, 'bye');
  client.close();
  await new Promise<void>((r) => server.once('close', () => r()));
});

test('session: pings from the peer are echoed, its own are not', async () => {
  const p = rawPeer();
  p.send({ type: 'ping', id: 7 });
  p.send({ type: 'ping', id: 8 });
  p.send({ type: 'ping', id: 9 });
  await until('two echoes', () => (p.frames.length >= 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(p.frames, [
    { type: 'ping', id: 7 },
    { type: 'ping', id: 9 },
  ]);
  p.session.close();
});

test('session: RST_STREAM from the peer destroys the stream; a reused stream id is refused', async () => {
  const p = rawPeer();
  const streams: SpdyStream[] = [];
  p.session.on('stream', (s) => streams.push(s));
  // An empty header block needs no zlib context: a stream with no headers.
  const syn = (id: number): Frame => ({
    type: 'synStream',
    streamId: id,
    associatedId: 0,
    priority: 0,
    fin: false,
    unidirectional: false,
    headerBlock: Buffer.alloc(0),
  });
  p.send(syn(1));
  const s = await until('stream 1', () => streams[0]);
  const closed = new Promise((r) => s.once('close', r));
  p.send({ type: 'rstStream', streamId: 1, status: 5 });
  await closed;
  assert.equal(s.wasReset, true);
  p.send(syn(1));
  const rst = await until('a refusal', () => p.frames.find((f) => f.type === 'rstStream'));
  assert.deepEqual(rst, { type: 'rstStream', streamId: 1, status: 1 });
  assert.equal(streams.length, 1);
  p.session.close();
});

test('session: GOAWAY from the peer closes the session and its streams', async () => {
  const p = rawPeer();
  p.send({
    type: 'synStream',
    streamId: 3,
    associatedId: 0,
    priority: 0,
    fin: false,
    unidirectional: false,
    headerBlock: Buffer.alloc(0),
  });
  const s = await new Promise<SpdyStream>((r) => p.session.once('stream', r));
  const closed = new Promise<void>((r) => p.session.once('close', () => r()));
  p.send({ type: 'goAway', lastGoodStreamId: 3, status: 0 });
  await closed;
  assert.equal(s.destroyed, true);
  assert.equal(p.session.isClosed, true);
});
