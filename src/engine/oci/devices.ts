/**
 * Host device nodes for `--privileged` (Docker gives a privileged container
 * every device of the host) and `--device` (one path). The spec lists them in
 * `linux.devices`; the runtime creates the nodes in the container's /dev.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidError } from '../../lib/errors.ts';
import type { OciDevice } from './oci-spec.ts';

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** One device node as the spec describes it; `inside` is its path in the container (default: the same). */
export async function deviceFromPath(path: string, inside = path): Promise<OciDevice> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    throw new InvalidError(`adding device ${path}: ${(err as Error).message}`, { cause: err });
  }
  const kind = Number(st.mode) & S_IFMT;
  if (kind !== S_IFCHR && kind !== S_IFBLK)
    throw new InvalidError(`adding device ${path}: not a device node`);
  const rdev = Number(st.rdev);
  // Linux dev_t encoding (new_decode_dev): major in bits 8-19, minor in bits 0-7 and 20-31.
  const major = (rdev >> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return {
    type: kind === S_IFCHR ? 'c' : 'b',
    path: inside,
    major,
    minor,
    fileMode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/**
 * Every character and block device under /dev (recursively, as Docker does),
 * except the pty and console nodes the container gets its own of.
 */
export async function hostDevices(root = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const skip = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx', '/dev/tty']);
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (skip.has(p)) continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isCharacterDevice() || e.isBlockDevice()) out.push(await deviceFromPath(p));
    }
  }
  await walk(root);
  return out;
}
