/**
 * Content-addressed blob store: `<root>/blobs/sha256/<hex>`. Every blob is
 * written to a temporary file in `<root>/ingest`, fsynced, verified against
 * its digest and renamed into place, so a blob that exists is complete and
 * correct, and a put that resolved is durable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDir, writeFileAtomic } from '../../lib/atomic-file.ts';
import { InvalidError, NotFoundError } from '../../lib/errors.ts';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a `sha256:` digest; throws InvalidError for anything else. */
export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m?.[1]) throw new InvalidError(`invalid digest "${digest}"`);
  return m[1];
}

export class ContentStore {
  readonly root: string;
  readonly blobDir: string;
  readonly ingestDir: string;

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await rm(this.ingestDir, { recursive: true, force: true });
    await mkdir(this.ingestDir, { recursive: true });
  }

  path(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(
      () => true,
      () => false,
    );
  }

  async size(digest: string): Promise<number> {
    return (await stat(this.path(digest))).size;
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      throw new NotFoundError(`reading blob ${digest}: not in the content store`, { cause: err });
    }
  }

  async readJson<T>(digest: string): Promise<T> {
    return JSON.parse((await this.read(digest)).toString('utf8')) as T;
  }

  openRead(digest: string): Readable {
    return createReadStream(this.path(digest));
  }

  /** Stores bytes; returns their digest. */
  async put(data: string | Uint8Array): Promise<string> {
    const digest = sha256(data);
    if (!(await this.has(digest))) await writeFileAtomic(this.path(digest), data);
    return digest;
  }

  /** Streams a blob in, verifying `expected` when given. */
  async ingest(source: Readable, expected?: string): Promise<{ digest: string; size: number }> {
    const tmp = join(this.ingestDir, `blob-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const out = createWriteStream(tmp, { flush: true });
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        out,
      );
      const digest = `sha256:${hash.digest('hex')}`;
      await this.commitTemp(tmp, digest, expected);
      return { digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Moves a file already on this filesystem into the store after hashing it. */
  async adopt(file: string, expected?: string): Promise<{ digest: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const digest = `sha256:${hash.digest('hex')}`;
    const fh = await open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.commitTemp(file, digest, expected);
    return { digest, size };
  }

  private async commitTemp(tmp: string, digest: string, expected: string | undefined): Promise<void> {
    if (expected !== undefined && expected !== digest) {
      throw new InvalidError(`verifying blob: digest ${digest} does not match expected ${expected}`);
    }
    if (await this.has(digest)) return;
    await rename(tmp, this.path(digest));
    await syncDir(this.blobDir);
  }

  async delete(digest: string): Promise<number> {
    const p = this.path(digest);
    const st = await stat(p).catch(() => undefined);
    await rm(p, { force: true });
    return st?.size ?? 0;
  }

  /** All digests present. */
  async list(): Promise<string[]> {
    const names = await readdir(this.blobDir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}
