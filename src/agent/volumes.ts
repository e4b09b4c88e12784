/**
 * The pod volumes hook: setup makes each volume's directory under
 * `<root>/<pod uid>/volumes/<name>` (emptyDir on disk or tmpfs for medium
 * Memory; configMap and secret as files, secrets on tmpfs; hostPath as the
 * host's path) and gives the engine bind mounts for a container's
 * volumeMounts; teardown unmounts and removes the pod's directory.
 * ConfigMap and Secret files are rewritten on every sync (atomic renames in
 * the bind-mounted directory), so updates reach running pods.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { Pod } from '../client/index.ts';
import type { MountSpec } from '../engine/types.ts';
import { UnavailableError } from '../lib/errors.ts';
import { ConfigError, type ConfigSource } from './env.ts';

type Items = { key: string; path: string; mode?: number }[];
interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
  configMap?: { name?: string; items?: Items; defaultMode?: number; optional?: boolean };
  secret?: { secretName?: string; items?: Items; defaultMode?: number; optional?: boolean };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

/** Volume name to host path. */
export type PodVolumePaths = Map<string, { path: string; readOnly: boolean }>;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new UnavailableError(`${cmd} ${args.join(' ')}: ${err.trim()}`)),
    );
  });
}

function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

export class PodVolumes {
  readonly root: string;
  readonly #source: ConfigSource;

  constructor(o: { root: string; source: ConfigSource }) {
    this.root = o.root;
    this.#source = o.source;
  }

  /** Pod uids with a directory here (for garbage collection). */
  listPods(): string[] {
    return existsSync(this.root) ? readdirSync(this.root) : [];
  }

  async setup(pod: Pod): Promise<PodVolumePaths> {
    const uid = pod.metadata.uid ?? '';
    const ns = pod.metadata.namespace ?? 'default';
    const out: PodVolumePaths = new Map();
    for (const v of (pod.spec?.volumes ?? []) as Volume[]) {
      const dir = join(this.root, uid, 'volumes', v.name);
      if (v.hostPath) {
        const t = v.hostPath.type ?? '';
        if (t === 'DirectoryOrCreate') await mkdir(v.hostPath.path, { recursive: true, mode: 0o755 });
        else if (t === 'FileOrCreate' && !existsSync(v.hostPath.path)) {
          await mkdir(dirname(v.hostPath.path), { recursive: true });
          await writeFile(v.hostPath.path, '', { mode: 0o644 });
        } else if (t !== '' && !existsSync(v.hostPath.path)) {
          throw new ConfigError(`hostPath type check failed: ${v.hostPath.path} does not exist`);
        }
        out.set(v.name, { path: v.hostPath.path, readOnly: false });
      } else if (v.emptyDir) {
        await this.#dir(dir, v.emptyDir.medium === 'Memory');
        out.set(v.name, { path: dir, readOnly: false });
      } else if (v.configMap || v.secret) {
        const cm = v.configMap;
        const name = cm ? cm.name : v.secret?.secretName;
        const kind = cm ? 'configmap' : 'secret';
        const data = name
          ? cm
            ? await this.#source.configMap(ns, name)
            : await this.#source.secret(ns, name)
          : undefined;
        const optional = (cm ?? v.secret)?.optional ?? false;
        if (!data && !optional)
          throw new ConfigError(
            `MountVolume.SetUp failed for volume "${v.name}" : ${kind} "${name}" not found`,
          );
        await this.#dir(dir, !cm);
        const src = cm ?? v.secret;
        await writeFiles(dir, data ?? {}, src?.items, src?.defaultMode ?? 0o644);
        out.set(v.name, { path: dir, readOnly: true });
      }
      // projected, downwardAPI, persistentVolumeClaim: not yet (see README).
    }
    return out;
  }

  async #dir(dir: string, tmpfs: boolean): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o777 });
    if (tmpfs && !isMountPoint(dir)) await run('mount', ['-t', 'tmpfs', '-o', 'mode=0777', 'tmpfs', dir]);
  }

  /** Engine mounts for a container's volumeMounts. */
  mountsFor(mounts: VolumeMount[] | undefined, paths: PodVolumePaths): MountSpec[] {
    const out: MountSpec[] = [];
    for (const m of mounts ?? []) {
      const v = paths.get(m.name);
      if (!v) throw new ConfigError(`volume "${m.name}" not found in the pod's volumes`);
      const sub = m.subPath ? normalize(m.subPath) : '';
      if (sub.startsWith('..') || sub.startsWith('/')) throw new ConfigError(`invalid subPath ${m.subPath}`);
      out.push({
        Type: 'bind',
        Source: sub ? join(v.path, sub) : v.path,
        Target: m.mountPath,
        ReadOnly: (m.readOnly ?? false) || v.readOnly,
      });
    }
    return out;
  }

  /** Unmounts every tmpfs of the pod and removes its directory. Idempotent. */
  async teardown(uid: string): Promise<void> {
    const base = join(this.root, uid);
    if (!existsSync(base)) return;
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => p.startsWith(`${base}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', [m]).catch(() => run('umount', ['-l', m]));
    await rm(base, { recursive: true, force: true });
  }
}

async function writeFiles(dir: string, data: Record<string, string>, items: Items | undefined, mode: number) {
  const files = items
    ? items
        .filter((i) => i.key in data)
        .map((i) => ({ path: i.path, value: data[i.key] ?? '', mode: i.mode ?? mode }))
    : Object.entries(data).map(([k, v]) => ({ path: k, value: v, mode }));
  const wanted = new Set(files.map((f) => f.path.split('/')[0]));
  for (const f of files) {
    const path = join(dir, normalize(f.path));
    if (!path.startsWith(`${dir}/`)) continue;
    await mkdir(dirname(path), { recursive: true });
    const same = await stat(path).then(
      (s) => s.isFile() && (s.mode & 0o777) === f.mode && readFileSync(path, 'utf8') === f.value,
      () => false,
    );
    if (same) continue;
    await writeFile(`${path}.tmp`, f.value, { mode: f.mode });
    await chmod(`${path}.tmp`, f.mode);
    await rename(`${path}.tmp`, path);
  }
  for (const name of readdirSync(dir))
    if (!wanted.has(name)) await rm(join(dir, name), { recursive: true, force: true });
}
