import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { copyOutput, demux, encodeFrame } from './stdcopy.ts';

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function collect(stream: PassThrough): Promise<string> {
  stream.end();
  let s = '';
  for await (const c of stream) s += c;
  return s;
}

test('demux reassembles frames split across chunks at any byte', async () => {
  const wire = Buffer.concat([
    encodeFrame(1, Buffer.from('hello\n')),
    encodeFrame(2, Buffer.from('oops\n')),
    encodeFrame(1, Buffer.alloc(0)),
  ]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const frames = [];
    for await (const f of demux(chunks(wire.subarray(0, cut), wire.subarray(cut))))
      frames.push([f.stream, f.data.toString()]);
    assert.deepEqual(frames, [
      [1, 'hello\n'],
      [2, 'oops\n'],
      [1, ''],
    ]);
  }
});

test('copyOutput keeps stdout and stderr apart, reports systemerr', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const wire = chunks(
    encodeFrame(1, Buffer.from('out')),
    encodeFrame(2, Buffer.from('err')),
    encodeFrame(3, Buffer.from('boom')),
  );
  const systemErr = await copyOutput(wire, false, { stdout, stderr });
  assert.equal(systemErr, 'boom');
  assert.equal(await collect(stdout), 'out');
  assert.equal(await collect(stderr), 'err');
});

test('copyOutput passes TTY output through raw', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  await copyOutput(chunks(Buffer.from('\x01\x00raw\r\n')), true, { stdout, stderr });
  assert.equal(await collect(stdout), '\x01\x00raw\r\n');
  assert.equal(await collect(stderr), '');
});
