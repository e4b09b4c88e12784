/**
 * Layer snapshots: each layer unpacked once, into `<root>/snapshots/<chain>/fs`
 * where `<chain>` is the hex of its chain id (the identity of a layer together
 * with everything under it), so images sharing a base share its directories.
 * A short link `<root>/l/<12 hex>` points at each, so that an overlay mount
 * made from `<root>` with relative lowerdirs stays under the kernel's one-page
 * limit on mount options even with a hundred layers (as Docker's overlay2 does).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidError } from '../../lib/errors.ts';
import { sha256 } from './content-store.ts';
import { unpackLayer } from './layer-tar.ts';

/** Chain ids of a layer stack, bottom first: chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? d : sha256(`${prev} ${d}`));
  }
  return out;
}

function hexOf(chainId: string): string {
  return chainId.slice('sha256:'.length);
}

export class Snapshots {
  readonly root: string;
  readonly dir: string;
  readonly linkDir: string;
  private readonly inflight = new Map<string, Promise<{ size: number }>>();

  constructor(root: string) {
    this.root = root;
    this.dir = join(root, 'snapshots');
    this.linkDir = join(root, 'l');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.linkDir, { recursive: true });
    // Half-made snapshots from a crash.
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('tmp-')) await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }

  /** The unpacked directory of a snapshot. */
  path(chainId: string): string {
    return join(this.dir, hexOf(chainId), 'fs');
  }

  /** The lowerdir spelling of a snapshot, relative to `root`. */
  shortPath(chainId: string): string {
    return `l/${hexOf(chainId).slice(0, 12)}`;
  }

  async has(chainId: string): Promise<boolean> {
    return stat(this.path(chainId)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Unpacks `layer` as the snapshot `chainId` unless it exists. The layer's
   * computed diff id must equal `diffId`. Concurrent calls for one chain share
   * one unpack; a failed unpack leaves nothing behind.
   */
  async ensure(chainId: string, diffId: string, openLayer: () => Readable): Promise<{ size: number }> {
    if (await this.has(chainId)) return { size: await this.size(chainId) };
    const running = this.inflight.get(chainId);
    if (running) return running;
    const p = this.unpack(chainId, diffId, openLayer).finally(() => this.inflight.delete(chainId));
    this.inflight.set(chainId, p);
    return p;
  }

  private async unpack(
    chainId: string,
    diffId: string,
    openLayer: () => Readable,
  ): Promise<{ size: number }> {
    const tmp = join(this.dir, `tmp-${randomBytes(6).toString('hex')}`);
    const final = join(this.dir, hexOf(chainId));
    try {
      await mkdir(join(tmp, 'fs'), { recursive: true });
      const got = await unpackLayer(openLayer(), join(tmp, 'fs'));
      if (got.diffId !== diffId) {
        throw new InvalidError(
          `unpacking layer: content is ${got.diffId} but the image config says ${diffId}`,
        );
      }
      await writeFile(join(tmp, 'size'), String(got.size));
      // The link first: a crash between the two leaves a dangling link, never a snapshot without one.
      await rm(join(this.root, this.shortPath(chainId)), { force: true });
      await symlink(`../snapshots/${hexOf(chainId)}/fs`, join(this.root, this.shortPath(chainId)));
      await rename(tmp, final).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
      return { size: got.size };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Total bytes of the regular files in the layer. */
  async size(chainId: string): Promise<number> {
    const text = await readFile(join(this.dir, hexOf(chainId), 'size'), 'utf8').catch(() => '0');
    return Number(text) || 0;
  }

  /** Snapshot chain ids present on disk. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** Deletes a snapshot (callers make sure nothing mounts it). */
  async remove(chainId: string): Promise<void> {
    await rm(join(this.root, this.shortPath(chainId)), { force: true });
    // Rename first so a crash never leaves a half-deleted snapshot under its real name.
    const doomed = join(this.dir, `tmp-rm-${randomBytes(6).toString('hex')}`);
    await rename(join(this.dir, hexOf(chainId)), doomed).catch(() => {});
    await rm(doomed, { recursive: true, force: true });
  }
}
