/**
 * Two crun operations done in-process instead of spawning crun (each spawn of
 * crun costs ~4-5 ms here, most of a container start's budget). They rely on
 * crun's state layout (`<root>/<id>/{exec.fifo,status,config.json}`, crun 1.x)
 * and fall back to the real command whenever anything looks unexpected.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type CgroupLayout, removeCgroup } from './cgroups.ts';

/**
 * crun's `start` opens `<root>/<id>/exec.fifo` for writing, unlinks it and
 * writes one byte: the container's init is blocked reading that fifo. Not done
 * here: poststart hooks (buildSpec sets none) and sd-notify. O_NONBLOCK: with
 * no reader (the init died) open fails and the caller runs `crun start` to
 * report why. Returns false when the caller must use crun.
 */
export async function crunFastStart(runtimeRoot: string, id: string): Promise<boolean> {
  const fifo = join(runtimeRoot, id, 'exec.fifo');
  let fh: FileHandle;
  try {
    fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    await unlink(fifo);
    await fh.write(Buffer.alloc(1));
    return true;
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}

/**
 * crun's `delete` of an exited container removes its cgroup and its state
 * directory. Call only once conmon has recorded the exit (the init is dead, and
 * with it every process of its pid namespace). Declines configs with poststop
 * hooks and systemd cgroups; removeCgroup fails (and so do we) if processes are
 * still in the cgroup. Returns false when the caller must use `crun delete`.
 */
export async function crunFastDelete(
  runtimeRoot: string,
  id: string,
  layout: () => Promise<CgroupLayout>,
): Promise<boolean> {
  const dir = join(runtimeRoot, id);
  const [statusText, configText] = await Promise.all([
    readFile(join(dir, 'status'), 'utf8'),
    readFile(join(dir, 'config.json'), 'utf8'),
  ]);
  const status = JSON.parse(statusText) as { 'cgroup-path'?: unknown; 'systemd-cgroup'?: unknown };
  const config = JSON.parse(configText) as { hooks?: { poststop?: unknown[] } };
  if (status['systemd-cgroup'] || config.hooks?.poststop?.length) return false;
  const cgroupPath = status['cgroup-path'];
  if (typeof cgroupPath === 'string' && cgroupPath !== '' && cgroupPath !== '/') {
    await removeCgroup(await layout(), cgroupPath);
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}
