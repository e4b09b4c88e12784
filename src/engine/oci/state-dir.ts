/**
 * The runtime's state directory belongs on tmpfs, as /run does on most hosts:
 * conmon fsyncs its pid file and every exit file (and their directory), which
 * costs tens of milliseconds per container on a disk and nothing on tmpfs. On
 * hosts where /run is a plain directory (these test machines), mount a small
 * tmpfs over the state root at daemon start. The mount outlives the daemon, so
 * a restarted daemon finds its containers' state; like /run, it ends at reboot,
 * as the containers do.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UnavailableError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';

const run = promisify(execFile);

/** The filesystem type of the mount that holds `dir` (longest mount-point prefix in /proc/self/mountinfo). */
export async function filesystemOf(dir: string): Promise<string> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  let best = '';
  let type = '';
  for (const line of info.split('\n')) {
    const [left, right] = line.split(' - ');
    const mountPoint = left?.split(' ')[4]?.replace(/\\040/g, ' ');
    if (!mountPoint || !right) continue;
    const inside =
      dir === mountPoint || dir.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
    if (inside && mountPoint.length >= best.length) {
      best = mountPoint;
      type = right.split(' ')[0] ?? '';
    }
  }
  return type;
}

/**
 * Makes sure `dir` exists and lives on tmpfs, mounting one (mode 0700, `size`)
 * when it does not. Returns true when it mounted. Needs root for the mount.
 */
export async function ensureTmpfs(dir: string, log: Logger, size = '64m'): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fs = await filesystemOf(dir);
  if (fs === 'tmpfs') return false;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `mode=0700,size=${size},nosuid,nodev`, 'tmpfs', dir]);
  } catch (err) {
    throw new UnavailableError(`mounting a tmpfs for the runtime state at ${dir}`, { cause: err });
  }
  log.info({ dir, was: fs }, 'runtime state dir was not on tmpfs: mounted one (conmon fsyncs exit files)');
  return true;
}
