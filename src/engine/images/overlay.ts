/**
 * Overlay mounts of a container's root filesystem. Node cannot call mount(2),
 * so this runs util-linux `mount` (about 2-3 ms, measured in the images test);
 * a native mount could replace `mountOverlay` without touching its callers.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { UnavailableError } from '../../lib/errors.ts';

export interface OverlaySpec {
  /** Directory the lowerdirs are relative to (the mount runs there). */
  cwd: string;
  /** Lower directories, top-most first, relative to `cwd` or absolute. */
  lower: string[];
  upper: string;
  work: string;
  target: string;
}

/** Linux refuses mount data longer than one page. */
export const MOUNT_DATA_LIMIT = 4095;

export function overlayOptions(spec: OverlaySpec): string {
  const opts = `lowerdir=${spec.lower.join(':')},upperdir=${spec.upper},workdir=${spec.work}`;
  if (opts.length > MOUNT_DATA_LIMIT) {
    throw new UnavailableError(`mounting overlay: ${spec.lower.length} layers exceed the mount option limit`);
  }
  return opts;
}

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) =>
      reject(new UnavailableError(`running ${cmd}: ${err.message}`, { cause: err })),
    );
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new UnavailableError(`${cmd} ${args.at(-1)}: ${stderr.trim()}`)),
    );
  });
}

export async function mountOverlay(spec: OverlaySpec): Promise<void> {
  await run(
    'mount',
    ['-n', '-i', '-t', 'overlay', 'overlay', '-o', overlayOptions(spec), spec.target],
    spec.cwd,
  );
}

/** Unmounts `target`; a busy mount is detached lazily; not mounted is fine. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  try {
    await run('umount', ['-n', '-i', target]);
  } catch {
    await run('umount', ['-n', '-i', '-l', target]);
  }
}

/** Unescapes the octal escapes mountinfo uses for spaces and the like. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint !== undefined && unescapeMountinfo(mountPoint) === target) return true;
  }
  return false;
}
