/**
 * Overlay mounts of a container's root filesystem. Node cannot call mount(2);
 * native/mount.c does (about 0.4 ms), and without it (no compiler at setup)
 * this spawns mount(8), which costs 5-10 ms. Long layer stacks whose absolute
 * paths exceed the one-page option limit are mounted by mount(8) from the
 * store root with relative paths.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { UnavailableError } from '../../lib/errors.ts';

interface NativeMount {
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount(target: string, flags: number): void;
}

const MNT_DETACH = 2;
let native: NativeMount | null | undefined;

/** The addon, or null when it was not built. */
export function nativeMount(): NativeMount | null {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('./native/build/mount.node') as NativeMount;
    } catch {
      native = null;
    }
  }
  return native;
}

export interface OverlaySpec {
  /** Directory the lowerdirs are relative to (the mount runs there). */
  cwd: string;
  /** Lower directories, top-most first, relative to `cwd` or absolute. */
  lower: string[];
  upper: string;
  work: string;
  target: string;
  /**
   * Skip every sync of the upper filesystem (mount option `volatile`): umount
   * no longer flushes the whole host filesystem (1-12 ms saved). For
   * containers whose changes are thrown away (`run --rm`): after a host
   * crash their upperdir may be incomplete.
   */
  volatile?: boolean;
}

function optionString(spec: OverlaySpec, lower: string[]): string {
  const base = `lowerdir=${lower.join(':')},upperdir=${spec.upper},workdir=${spec.work}`;
  return spec.volatile ? `${base},volatile` : base;
}

/** Linux refuses mount data longer than one page. */
export const MOUNT_DATA_LIMIT = 4095;

export function overlayOptions(spec: OverlaySpec): string {
  const opts = optionString(spec, spec.lower);
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
  const addon = nativeMount();
  if (addon) {
    const lower = spec.lower.map((l) => (isAbsolute(l) ? l : join(spec.cwd, l)));
    const opts = optionString(spec, lower);
    if (opts.length <= MOUNT_DATA_LIMIT) {
      try {
        addon.mount('overlay', spec.target, 'overlay', 0, opts);
        return;
      } catch (err) {
        throw new UnavailableError(`mounting overlay at ${spec.target}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }
  await run(
    'mount',
    ['-n', '-i', '-t', 'overlay', 'overlay', '-o', overlayOptions(spec), spec.target],
    spec.cwd,
  );
}

/** Unmounts `target`; a busy mount is detached lazily; not mounted is fine. */
export async function unmount(target: string): Promise<void> {
  const addon = nativeMount();
  if (addon) {
    try {
      addon.umount(target, 0);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EINVAL' || code === 'ENOENT') return; // not a mount point
      if (code !== 'EBUSY') {
        throw new UnavailableError(`unmounting ${target}: ${(err as Error).message}`, { cause: err });
      }
      addon.umount(target, MNT_DETACH);
    }
    return;
  }
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
