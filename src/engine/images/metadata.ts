/**
 * The image metadata database: image records and tags, one JSON document at
 * `<root>/images.json`, replaced atomically and durably on every change (a
 * node has tens to hundreds of images: a whole-file rewrite is a few hundred
 * microseconds and needs no schema). Mutations are serialised by `update`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.ts';

export interface LayerRecord {
  /** Digest of the blob as stored (maybe gzip). */
  digest: string;
  mediaType: string;
  /** Blob size in bytes. */
  size: number;
  /** Digest of the uncompressed tar (the config's diff id). */
  diffId: string;
  chainId: string;
  /** Bytes of regular files in the unpacked layer. */
  unpackedSize: number;
}

export interface ImageRecord {
  /** Config digest, `sha256:<hex>`. */
  id: string;
  manifestDigest: string;
  layers: LayerRecord[];
  /** Full references, e.g. `docker.io/library/busybox:latest`. */
  tags: string[];
  /** Full `repo@sha256:` references (images pulled from a registry). */
  digests: string[];
  /** Image id of the image this one was committed from. */
  parent: string;
  created: string;
  lastTagTime: string;
}

interface Document {
  version: 1;
  images: Record<string, ImageRecord>;
}

export class Metadata {
  readonly file: string;
  private doc: Document = { version: 1, images: {} };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.file = join(root, 'images.json');
  }

  async load(): Promise<void> {
    try {
      this.doc = JSON.parse(await readFile(this.file, 'utf8')) as Document;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** All records; callers must not modify them. */
  all(): ImageRecord[] {
    return Object.values(this.doc.images);
  }

  get(id: string): ImageRecord | undefined {
    return this.doc.images[id];
  }

  /** The image a full reference (tag or digest) points at. */
  byReference(ref: string): ImageRecord | undefined {
    return this.all().find((r) => r.tags.includes(ref) || r.digests.includes(ref));
  }

  /**
   * Runs `change` on a copy of the document and persists the result before
   * resolving; changes run one at a time. A throwing change changes nothing.
   */
  update<T>(change: (images: Record<string, ImageRecord>) => T): Promise<T> {
    const run = async () => {
      const images = structuredClone(this.doc.images);
      const result = change(images);
      const next: Document = { version: 1, images };
      await writeFileAtomic(this.file, JSON.stringify(next));
      this.doc = next;
      return result;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }
}
