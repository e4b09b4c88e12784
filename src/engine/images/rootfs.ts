/**
 * A container's root filesystem: the image's snapshots as overlay lowerdirs,
 * `<containerDir>/upper` and `/work` on top, mounted at `<containerDir>/rootfs`.
 * `<containerDir>/layers.json` records which snapshots, so diff, export and
 * commit work from the container directory alone.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../lib/errors.ts';
import { mountOverlay, unmount } from './overlay.ts';
import type { Snapshots } from './snapshots.ts';

export interface RootfsRecord {
  imageId: string;
  /** Chain ids, bottom layer first. */
  chainIds: string[];
  /** Mounted with overlay's `volatile` option (see OverlaySpec). */
  volatile?: boolean;
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

/**
 * True when `rootfs` is a mount point: its device differs from its parent's.
 * (Cheaper than parsing mountinfo; an overlay always has its own st_dev.)
 */
export function isRootfsMounted(rootfs: string): boolean {
  try {
    return statSync(rootfs).dev !== statSync(dirname(rootfs)).dev;
  } catch {
    return false;
  }
}

/**
 * Mounts the overlay (idempotent) and returns the rootfs path. This is on the
 * hot path of `run`, so it uses synchronous fs calls: each takes microseconds,
 * far less than a hop through the libuv threadpool.
 */
export async function mountRootfs(
  snapshots: Snapshots,
  record: RootfsRecord,
  containerDir: string,
): Promise<string> {
  const p = rootfsPaths(containerDir);
  if (isRootfsMounted(p.rootfs)) return p.rootfs;
  for (const d of [p.rootfs, p.upper, p.work]) mkdirSync(d, { recursive: true });
  writeFileSync(p.record, JSON.stringify(record));
  const lower = record.chainIds.map((c) => snapshots.shortPath(c)).reverse();
  if (lower.length === 0) {
    mkdirSync(p.empty, { recursive: true });
    lower.push(p.empty);
  }
  if (record.volatile) {
    // A volatile overlay leaves work/work/incompat/volatile behind, and the
    // kernel refuses to mount that workdir again until it is gone.
    const marker = join(p.work, 'work', 'incompat', 'volatile');
    if (existsSync(marker)) rmSync(join(p.work, 'work'), { recursive: true, force: true });
  }
  await mountOverlay({
    cwd: snapshots.root,
    lower,
    upper: p.upper,
    work: p.work,
    target: p.rootfs,
    volatile: record.volatile === true,
  });
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
/**
 * Paths the runtime creates as mount points in the upperdir (bind-mounted
 * files, /proc, /sys, /dev). Docker keeps them in an "init" layer, so they
 * never show in `diff` nor land in a `commit`; we leave them out the same way.
 */
export const RUNTIME_PATHS: readonly string[] = [
  'etc/hosts',
  'etc/hostname',
  'etc/resolv.conf',
  '.dockerenv',
  'dev',
  'proc',
  'sys',
];

/** True for a runtime path or anything under one (`rel` without a leading slash). */
export function isRuntimePath(rel: string): boolean {
  return RUNTIME_PATHS.some((p) => rel === p || rel.startsWith(`${p}/`));
}

export async function diffUpper(snapshots: Snapshots, containerDir: string): Promise<Change[]> {
  const record = await readRootfsRecord(containerDir);
  const lowers = record.chainIds.map((c) => snapshots.path(c)).reverse();
  const upper = rootfsPaths(containerDir).upper;
  const changes: Change[] = [];
  const walk = async (rel: string, parentAdded: boolean): Promise<number> => {
    const entries = await readdir(join(upper, rel), { withFileTypes: true });
    let reported = 0;
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (isRuntimePath(childRel)) continue;
      reported++;
      const st = await lstat(join(upper, childRel));
      if (e.isCharacterDevice() && st.rdev === 0) {
        changes.push({ Path: `/${childRel}`, Kind: 2 });
        continue;
      }
      const added = parentAdded || !(await existsIn(lowers, childRel));
      const change: Change = { Path: `/${childRel}`, Kind: added ? 1 : 0 };
      changes.push(change);
      // A directory copied up only because the runtime made a mount point in it is no change.
      if (e.isDirectory() && (await walk(childRel, added)) === 0 && !added) {
        changes.splice(changes.indexOf(change), 1);
        reported--;
      }
    }
    return reported;
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
  if (isRootfsMounted(p.rootfs)) return use(p.rootfs);
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
