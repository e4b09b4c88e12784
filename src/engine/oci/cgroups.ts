/**
 * cgroup layout of the host: which version is mounted, where each v1 controller
 * lives, the hybrid-mode fix crun needs, and per-container cgroup paths.
 *
 * Containers get `linux.cgroupsPath = /drover/<id>` (cgroupfs manager, no
 * systemd): on v1 that is `<controller mount>/drover/<id>` in each hierarchy, on
 * v2 `/sys/fs/cgroup/drover/<id>`.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UnavailableError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';

const run = promisify(execFile);

/** `v1`: legacy hierarchies only; `hybrid`: v1 plus a cgroup2 `unified` mount; `v2`: unified only. */
export type CgroupMode = 'v1' | 'hybrid' | 'v2';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Usually /sys/fs/cgroup. */
  root: string;
  /** v1 only: controller name (`memory`, `cpu`, `name=systemd` ...) to its mount directory. */
  v1: Map<string, string>;
  /** The cgroup2 mount point, when there is one (v2 root, or `<root>/unified` in hybrid mode). */
  unified?: string;
}

/** The parent of every container cgroup. */
export const cgroupParent = 'drover';

/** The OCI `linux.cgroupsPath` for a container (cgroupfs style, absolute below each hierarchy). */
export function containerCgroupsPath(id: string, parent = cgroupParent): string {
  return `/${parent}/${id}`;
}

interface MountEntry {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    out.push({
      mountPoint: (l[4] ?? '').replace(/\\040/g, ' '),
      fsType: r[0] ?? '',
      superOptions: (r[2] ?? '').split(','),
    });
  }
  return out;
}

const v1Options = new Set([
  'rw',
  'ro',
  'relatime',
  'noatime',
  'nosuid',
  'nodev',
  'noexec',
  'clone_children',
  'xattr',
]);

/** Reads /proc/self/mountinfo to find how cgroups are mounted below `root`. */
export async function detectCgroups(root = '/sys/fs/cgroup'): Promise<CgroupLayout> {
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const at = (p: string) => mounts.filter((m) => m.mountPoint === p).at(-1);
  const top = at(root);
  if (top?.fsType === 'cgroup2') return { mode: 'v2', root, v1: new Map(), unified: root };
  const v1 = new Map<string, string>();
  for (const m of mounts) {
    if (m.fsType !== 'cgroup' || !m.mountPoint.startsWith(`${root}/`)) continue;
    for (const opt of m.superOptions) {
      if (!v1Options.has(opt) && !opt.startsWith('release_agent') && !v1.has(opt)) v1.set(opt, m.mountPoint);
    }
  }
  if (v1.size === 0) throw new UnavailableError(`detecting cgroups: no cgroup v1 or v2 mount at ${root}`);
  const unifiedDir = join(root, 'unified');
  const unified = at(unifiedDir)?.fsType === 'cgroup2' ? unifiedDir : undefined;
  return { mode: unified ? 'hybrid' : 'v1', root, v1, ...(unified ? { unified } : {}) };
}

/**
 * crun 1.8 refuses every create in hybrid mode when a controller is bound to no
 * v1 hierarchy (it then shows in `unified/cgroup.controllers`; here `hugetlb`).
 * Binding each such controller to a v1 hierarchy of its own removes it from
 * cgroup2 and crun works. Needs root; idempotent. Returns the controllers it
 * mounted (empty when nothing was needed).
 */
export async function ensureHybridFix(log: Logger, layout?: CgroupLayout): Promise<string[]> {
  const l = layout ?? (await detectCgroups());
  if (l.mode !== 'hybrid' || !l.unified) return [];
  const controllers = (await readFile(join(l.unified, 'cgroup.controllers'), 'utf8'))
    .split(/\s+/)
    .filter(Boolean);
  const fixed: string[] = [];
  for (const c of controllers) {
    if (l.v1.has(c)) continue;
    const dir = join(l.root, c);
    try {
      await mkdir(dir, { recursive: true });
      await run('mount', ['-t', 'cgroup', '-o', c, 'cgroup', dir]);
    } catch (err) {
      // Another process may have mounted it a moment ago; the re-check below decides.
      const again = await detectCgroups(l.root);
      if (!again.v1.has(c)) {
        throw new UnavailableError(`applying the hybrid cgroup fix: mounting the ${c} controller at ${dir}`, {
          cause: err,
        });
      }
    }
    l.v1.set(c, dir);
    fixed.push(c);
  }
  if (fixed.length > 0) {
    log.info(
      { controllers: fixed, unified: l.unified },
      'hybrid cgroups: bound controllers left on cgroup2 to v1 hierarchies so that crun accepts containers',
    );
  }
  return fixed;
}

/** Every directory that makes up a container's cgroup (one per v1 hierarchy, or one on v2). */
export function cgroupDirs(layout: CgroupLayout, cgroupsPath: string): string[] {
  if (layout.mode === 'v2') return [join(layout.root, cgroupsPath)];
  const dirs = new Set<string>();
  for (const mountDir of layout.v1.values()) dirs.add(join(mountDir, cgroupsPath));
  if (layout.unified) dirs.add(join(layout.unified, cgroupsPath));
  return [...dirs];
}

/** The directory of one controller (v1) or the unified directory (v2) for a cgroup path. */
export function controllerDir(
  layout: CgroupLayout,
  controller: string,
  cgroupsPath: string,
): string | undefined {
  if (layout.mode === 'v2') return join(layout.root, cgroupsPath);
  const mountDir = layout.v1.get(controller);
  return mountDir ? join(mountDir, cgroupsPath) : undefined;
}

/**
 * Names of the container cgroups below `/<parent>` (the union over all
 * hierarchies), to find leftovers after a crash: any name without a live
 * container can go to removeCgroup.
 */
export async function listCgroups(layout: CgroupLayout, parent = cgroupParent): Promise<string[]> {
  const names = new Set<string>();
  await Promise.all(
    cgroupDirs(layout, `/${parent}`).map(async (dir) => {
      try {
        for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) names.add(e.name);
      } catch {
        // hierarchy without our parent: nothing there
      }
    }),
  );
  return [...names].sort();
}

async function rmdirTree(dir: string): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // Children first: a cgroup directory can only be removed once it has no sub-cgroups.
  await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => rmdirTree(join(dir, e.name))));
  try {
    await rmdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Removes a leftover container cgroup (all hierarchies). Safe when it does not
 * exist; fails with UnavailableError (EBUSY) while processes still live in it.
 */
export async function removeCgroup(layout: CgroupLayout, cgroupsPath: string): Promise<void> {
  if (cgroupsPath === '/' || cgroupsPath === '')
    throw new UnavailableError('removing cgroup: refusing the root');
  const errors: unknown[] = [];
  await Promise.all(
    cgroupDirs(layout, cgroupsPath).map((d) => rmdirTree(d).catch((err: unknown) => void errors.push(err))),
  );
  if (errors.length > 0) {
    throw new UnavailableError(`removing cgroup ${cgroupsPath}: ${(errors[0] as Error).message}`, {
      cause: errors[0],
    });
  }
}

/** Freezer state of a cgroup: `frozen`, `thawed`, or undefined when the cgroup does not exist. */
export async function freezerState(
  layout: CgroupLayout,
  cgroupsPath: string,
): Promise<'frozen' | 'thawed' | undefined> {
  try {
    if (layout.mode === 'v2') {
      const events = await readFile(join(layout.root, cgroupsPath, 'cgroup.events'), 'utf8');
      return /^frozen 1$/m.test(events) ? 'frozen' : 'thawed';
    }
    const dir = controllerDir(layout, 'freezer', cgroupsPath);
    if (!dir) return undefined;
    const s = (await readFile(join(dir, 'freezer.state'), 'utf8')).trim();
    return s === 'THAWED' ? 'thawed' : 'frozen';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
