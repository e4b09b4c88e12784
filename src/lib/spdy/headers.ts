/**
 * SPDY/3 header blocks: `count(32) { nameLen(32) name valueLen(32) value }*`
 * with names lower-cased and several values of one name joined by NUL,
 * compressed with zlib over the SPDY dictionary. Each direction of a
 * connection is one zlib stream: every block continues the previous one
 * and ends with a sync flush, so the contexts below must see a session's
 * blocks in order (their methods queue behind each other).
 */
import zlib from 'node:zlib';
import { headerDictionary } from './dictionary.ts';
import { ProtocolError } from './frames.ts';

/** Header names (lower case) to their values. */
export type Headers = Record<string, string[]>;

export function encodeHeaderBlock(h: Headers): Buffer {
  const entries = Object.entries(h);
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, values] of entries) {
    for (const s of [name.toLowerCase(), values.join('\0')]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(b: Buffer): Headers {
  let at = 0;
  const take = (n: number): Buffer => {
    if (at + n > b.length) throw new ProtocolError('spdy: truncated header block');
    const out = b.subarray(at, at + n);
    at += n;
    return out;
  };
  const str = () => take(take(4).readUInt32BE(0)).toString('utf8');
  const out: Headers = {};
  const count = take(4).readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    const name = str().toLowerCase();
    const values = str().split('\0');
    out[name] = [...(out[name] ?? []), ...values];
  }
  return out;
}

/**
 * One direction's zlib stream. `run(input)` writes the input, sync-flushes
 * and resolves with everything the stream produced for it.
 */
class ZlibContext {
  readonly #stream: zlib.Deflate | zlib.Inflate;
  #chunks: Buffer[] = [];
  #error: Error | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(stream: zlib.Deflate | zlib.Inflate) {
    this.#stream = stream;
    stream.on('data', (c: Buffer) => this.#chunks.push(c));
    stream.on('error', (err: Error) => {
      this.#error = err;
    });
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.#queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.#error) return reject(this.#error);
          // A corrupt input fails with an 'error' event and never calls the flush callback.
          const onError = (err: Error) => reject(err);
          this.#stream.once('error', onError);
          this.#stream.write(input);
          this.#stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.#stream.off('error', onError);
            if (this.#error) return reject(this.#error);
            const out = Buffer.concat(this.#chunks);
            this.#chunks = [];
            resolve(out);
          });
        }),
    );
    this.#queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.#stream.destroy();
  }
}

/** Compresses a session's outgoing header blocks, in call order. */
export class HeaderCompressor {
  readonly #z = new ZlibContext(zlib.createDeflate({ dictionary: headerDictionary, level: 9 }));

  compress(h: Headers): Promise<Buffer> {
    return this.#z.run(encodeHeaderBlock(h));
  }

  close(): void {
    this.#z.close();
  }
}

/** Decompresses a session's incoming header blocks, in call order. */
export class HeaderDecompressor {
  readonly #z = new ZlibContext(zlib.createInflate({ dictionary: headerDictionary }));

  async decompress(block: Buffer): Promise<Headers> {
    // An empty block (SYN_REPLY without headers from some peers) adds nothing to the stream.
    if (block.length === 0) return {};
    try {
      return decodeHeaderBlock(await this.#z.run(block));
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError(`spdy: bad compressed header block: ${String(err)}`, { cause: err });
    }
  }

  close(): void {
    this.#z.close();
  }
}
