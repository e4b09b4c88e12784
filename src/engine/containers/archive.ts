import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { InvalidError, NotFoundError } from '../../lib/errors.ts';
import type { PathStat } from '../types.ts';

/** Go's os.FileMode bits, which the docker CLI reads from the path-stat header. */
const goModeDir = 2 ** 31;
const goModeSymlink = 2 ** 27;

/**
 * Resolves a path inside a container's root as the container would see it:
 * symlinks are followed relative to that root and can never lead outside it
 * (a link to `/etc` means `<root>/etc`, `../../..` stops at the root).
 * With `followLast=false` the final component is not dereferenced.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const pending = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const isLast = pending.length === 0;
    const st = await lstat(candidate).catch(() => undefined);
    if (st?.isSymbolicLink() && (followLast || !isLast)) {
      if (++hops > 40) throw new InvalidError(`resolving ${path}: too many levels of symbolic links`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

export async function statInRoot(hostPath: string, containerPath: string): Promise<PathStat> {
  const st = await lstat(hostPath).catch(() => undefined);
  if (!st) throw new NotFoundError(`Could not find the file ${containerPath} in container`);
  let mode = st.mode & 0o7777;
  if (st.isDirectory()) mode += goModeDir;
  if (st.isSymbolicLink()) mode += goModeSymlink;
  return {
    name: basename(containerPath) || '/',
    size: st.size,
    mode,
    mtime: st.mtime.toISOString(),
    linkTarget: st.isSymbolicLink() ? await readlink(hostPath) : '',
  };
}

/**
 * A tar of one file or directory, its entry named after the path's last
 * component as `docker cp` expects. GNU tar archives symlinks as links, so
 * nothing outside the resolved path is read.
 */
export function packPath(hostPath: string): Readable {
  const child = spawn('tar', ['--numeric-owner', '-C', dirname(hostPath), '-cf', '-', basename(hostPath)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.on('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`archiving ${hostPath}: ${stderr.trim()}`));
  });
  return child.stdout;
}

/**
 * Extracts a tar into `dir` inside a container root. Every entry is resolved
 * with resolveInRoot, so a hostile archive (`../../etc/x`, or a symlink
 * followed by a file through it) cannot write outside the container.
 */
export async function extractIntoRoot(root: string, dir: string, tar: Readable): Promise<void> {
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const done = (err?: unknown) => {
      stream.resume();
      if (err) next(err as Error);
      else next();
    };
    (async () => {
      const rel = posix.normalize(`/${header.name}`);
      const parent = await resolveInRoot(root, posix.join(dir, posix.dirname(rel)));
      await mkdir(parent, { recursive: true });
      const target = join(parent, posix.basename(rel));
      if (rel === '/') return;
      const existing = await lstat(target).catch(() => undefined);
      switch (header.type) {
        case 'directory':
          if (existing && !existing.isDirectory()) await rm(target, { recursive: true, force: true });
          await mkdir(target, { recursive: true });
          break;
        case 'symlink':
          if (existing) await rm(target, { recursive: true, force: true });
          await symlink(header.linkname ?? '', target);
          break;
        case 'link': {
          if (existing) await rm(target, { recursive: true, force: true });
          await link(await resolveInRoot(root, posix.join(dir, header.linkname ?? ''), false), target);
          break;
        }
        case 'file':
        case 'contiguous-file': {
          if (existing?.isDirectory()) await rm(target, { recursive: true, force: true });
          else if (existing) await rm(target, { force: true });
          await pipeline(stream, createWriteStream(target, { mode: header.mode ?? 0o644 }));
          break;
        }
        default:
          // Devices and fifos need mknod(2), which Node lacks; docker cp rarely carries them.
          return;
      }
      if (header.type !== 'symlink') await chmod(target, (header.mode ?? 0o644) & 0o7777);
      await lchown(target, header.uid ?? 0, header.gid ?? 0);
      if (header.mtime) await lutimes(target, header.mtime, header.mtime);
    })().then(() => done(), done);
  });
  await pipeline(tar, ex);
}
