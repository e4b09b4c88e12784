import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { headerDictionary } from './dictionary.ts';
import { encodeFrame, type Frame, FrameParser, ProtocolError } from './frames.ts';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor } from './headers.ts';

// Layouts from SPDY Protocol draft 3.1, section 2.2 (data and control frame headers) and 2.6.
const cases: { name: string; frame: Frame; hex: string }[] = [
  {
    name: 'data frame with FIN',
    frame: { type: 'data', streamId: 1, fin: true, data: Buffer.from('hi') },
    hex: '00000001' + '01000002' + '6869',
  },
  {
    name: 'empty data frame',
    frame: { type: 'data', streamId: 0x7fffffff, fin: false, data: Buffer.alloc(0) },
    hex: '7fffffff' + '00000000',
  },
  {
    name: 'SYN_STREAM, unidirectional, priority 3',
    frame: {
      type: 'synStream',
      streamId: 3,
      associatedId: 1,
      priority: 3,
      fin: false,
      unidirectional: true,
      headerBlock: Buffer.from('ab'),
    },
    hex: '80030001' + '0200000c' + '00000003' + '00000001' + '6000' + '6162',
  },
  {
    name: 'SYN_REPLY with FIN',
    frame: { type: 'synReply', streamId: 5, fin: true, headerBlock: Buffer.from('x') },
    hex: '80030002' + '01000005' + '00000005' + '78',
  },
  {
    name: 'RST_STREAM CANCEL',
    frame: { type: 'rstStream', streamId: 1, status: 5 },
    hex: '80030003' + '00000008' + '00000001' + '00000005',
  },
  {
    name: 'SETTINGS initial window size',
    frame: { type: 'settings', clearSettings: false, entries: [{ flags: 1, id: 7, value: 65536 }] },
    hex: '80030004' + '0000000c' + '00000001' + '01000007' + '00010000',
  },
  { name: 'PING', frame: { type: 'ping', id: 1 }, hex: '80030006' + '00000004' + '00000001' },
  {
    name: 'GOAWAY',
    frame: { type: 'goAway', lastGoodStreamId: 7, status: 0 },
    hex: '80030007' + '00000008' + '00000007' + '00000000',
  },
  {
    name: 'HEADERS',
    frame: { type: 'headers', streamId: 9, fin: false, headerBlock: Buffer.alloc(0) },
    hex: '80030008' + '00000004' + '00000009',
  },
  {
    name: 'WINDOW_UPDATE',
    frame: { type: 'windowUpdate', streamId: 1, delta: 0x10000 },
    hex: '80030009' + '00000008' + '00000001' + '00010000',
  },
];

for (const tc of cases) {
  test(`frame: ${tc.name}`, () => {
    const bytes = encodeFrame(tc.frame);
    assert.equal(bytes.toString('hex'), tc.hex);
    assert.deepEqual(new FrameParser().push(bytes), [tc.frame]);
  });
}

test('parser: frames split across chunks and several in one chunk', () => {
  const all = Buffer.concat(cases.map((c) => encodeFrame(c.frame)));
  const p = new FrameParser();
  const got: Frame[] = [];
  for (let at = 0; at < all.length; at += 3) got.push(...p.push(all.subarray(at, at + 3)));
  assert.deepEqual(
    got,
    cases.map((c) => c.frame),
  );
});

test('parser: unknown control types are reported, other versions are refused', () => {
  assert.deepEqual(new FrameParser().push(Buffer.from('8003000a00000000', 'hex')), [
    { type: 'unknown', controlType: 10 },
  ]);
  assert.throws(() => new FrameParser().push(Buffer.from('800200060000000400000001', 'hex')), ProtocolError);
  assert.throws(() => new FrameParser().push(Buffer.from('800300030000000100', 'hex')), ProtocolError);
});

test('dictionary: the spec bytes (length, hash, zlib dictionary id)', () => {
  assert.equal(headerDictionary.length, 1423);
  assert.equal(
    createHash('sha256').update(headerDictionary).digest('hex'),
    '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02',
  );
  // A zlib stream over a preset dictionary names it by its Adler-32 (RFC 1950), here 0xe3c6a7c2.
  const z = zlib.deflateSync(Buffer.from('x'), { dictionary: headerDictionary });
  assert.equal(z.readUInt8(1) & 0x20, 0x20);
  assert.equal(z.readUInt32BE(2), 0xe3c6a7c2);
});

test('header block: layout, lower-cased names, NUL-joined values', () => {
  const block = encodeHeaderBlock({ StreamType: ['data'], x: ['a', 'b'] });
  assert.equal(
    block.toString('hex'),
    '00000002' +
      '0000000a' +
      Buffer.from('streamtype').toString('hex') +
      '00000004' +
      Buffer.from('data').toString('hex') +
      '00000001' +
      '78' +
      '00000003' +
      '610062',
  );
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: ['data'], x: ['a', 'b'] });
  assert.throws(() => decodeHeaderBlock(block.subarray(0, 10)), ProtocolError);
});

test('header compression: one zlib stream per direction, blocks in order', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const blocks = await Promise.all(
    ['error', 'data', 'error', 'data'].map((t, i) =>
      c.compress({ streamtype: [t], port: ['8080'], requestid: [String(i >> 1)] }),
    ),
  );
  // Later blocks reuse the stream's history: a repeated block compresses to a few bytes.
  assert.ok((blocks[2]?.length ?? 0) < (blocks[0]?.length ?? 0));
  const got = [];
  for (const b of blocks) got.push(await d.decompress(b));
  assert.deepEqual(got[3], { streamtype: ['data'], port: ['8080'], requestid: ['1'] });
  // Each block ends with a sync flush (00 00 ff ff), so a reader can decode it on its own arrival.
  assert.equal(blocks[1]?.subarray(-4).toString('hex'), '0000ffff');
  // A fresh decompressor cannot read a block from the middle of a stream.
  await assert.rejects(new HeaderDecompressor().decompress(blocks[1] ?? Buffer.alloc(0)), ProtocolError);
  c.close();
  d.close();
});
