/**
 * A container's root filesystem: the image's snapshots as overlay lowerdirs,
 * `<containerDir>/upper` and `/work` on top, mounted at `<containerDir>/rootfs`.
 * `<containerDir>/layers.json` records which snapshots, so diff, export and
 * commit work from the container directory alone.
 */
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../lib/errors.ts';
import { isMounted, mountOverlay, unmount } from './overlay.ts';
import type { Snapshots } from './snapshots.ts';

export interface RootfsRecord {
  imageId: string;
  /** Chain ids, bottom layer first. */
  chainIds: string[];
}

export interface Change {
  Path: string;
  /** 0 modified, 1 added, 2 deleted (Docker's numbering). */
  Kind: 0 | 1 | 2;
}

export const rootfsPaths = (containerDir: string) => ({
  rootfs: join(containerDir, 'rootfs'),
  upper: join(containerDir, 'upper'),
  work: join(containerDir, 'work'),
  empty: join(containerDir, 'empty'),
  record: join(containerDir, 'layers.json'),
});

/** Mounts the overlay (idempotent) and returns the rootfs path. */
export async function mountRootfs(
  snapshots: Snapshots,
  record: RootfsRecord,
  containerDir: string,
): Promise<string> {
  const p = rootfsPaths(containerDir);
  if (await isMounted(p.rootfs)) return p.rootfs;
  await Promise.all([
    mkdir(p.rootfs, { recursive: true }),
    mkdir(p.upper, { recursive: true }),
    mkdir(p.work, { recursive: true }),
  ]);
  await writeFile(p.record, JSON.stringify(record));
  const lower = record.chainIds.map((c) => snapshots.shortPath(c)).reverse();
  if (lower.length === 0) {
    await mkdir(p.empty, { recursive: true });
    lower.push(p.empty);
  }
  await mountOverlay({ cwd: snapshots.root, lower, upper: p.upper, work: p.work, target: p.rootfs });
  return p.rootfs;
}

export async function readRootfsRecord(containerDir: string): Promise<RootfsRecord> {
  try {
    return JSON.parse(await readFile(rootfsPaths(containerDir).record, 'utf8')) as RootfsRecord;
  } catch (err) {
    throw new NotFoundError(`reading ${containerDir}: no root filesystem was prepared there`, { cause: err });
  }
}

/** Unmounts the rootfs; with `remove`, also deletes upper/work (the container's changes). */
export async function unmountRootfs(containerDir: string, opts: { remove?: boolean } = {}): Promise<void> {
  const p = rootfsPaths(containerDir);
  await unmount(p.rootfs);
  if (opts.remove) {
    for (const d of [p.rootfs, p.upper, p.work, p.empty, p.record])
      await rm(d, { recursive: true, force: true });
  }
}

async function existsIn(dirs: string[], rel: string): Promise<boolean> {
  for (const d of dirs) {
    try {
      await lstat(join(d, rel));
      return true;
    } catch {}
  }
  return false;
}

/** The container's changes against its image, from the upperdir, sorted by path. */
export async function diffUpper(snapshots: Snapshots, containerDir: string): Promise<Change[]> {
  const record = await readRootfsRecord(containerDir);
  const lowers = record.chainIds.map((c) => snapshots.path(c)).reverse();
  const upper = rootfsPaths(containerDir).upper;
  const changes: Change[] = [];
  const walk = async (rel: string, parentAdded: boolean): Promise<void> => {
    const entries = await readdir(join(upper, rel), { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      const st = await lstat(join(upper, childRel));
      if (e.isCharacterDevice() && st.rdev === 0) {
        changes.push({ Path: `/${childRel}`, Kind: 2 });
        continue;
      }
      const added = parentAdded || !(await existsIn(lowers, childRel));
      changes.push({ Path: `/${childRel}`, Kind: added ? 1 : 0 });
      if (e.isDirectory()) await walk(childRel, added);
    }
  };
  await walk('', false);
  return changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** Runs `use` with the rootfs mounted, unmounting afterwards only if it was not mounted before. */
export async function withMountedRootfs<T>(
  snapshots: Snapshots,
  containerDir: string,
  use: (rootfs: string) => Promise<T>,
): Promise<T> {
  const p = rootfsPaths(containerDir);
  if (await isMounted(p.rootfs)) return use(p.rootfs);
  await mountRootfs(snapshots, await readRootfsRecord(containerDir), containerDir);
  try {
    return await use(p.rootfs);
  } finally {
    await unmount(p.rootfs);
  }
}

/** Unmounts when `stream` finishes or fails (for exports of a temporarily mounted rootfs). */
export function unmountWhenDone(stream: Readable, target: string): Readable {
  stream.once('close', () => void unmount(target).catch(() => {}));
  return stream;
}
