import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { Pod } from '../client/index.ts';
import type { MountSpec } from '../engine/types.ts';
import { ConfigError, type ConfigSource, fieldValue, resourceValue } from './env.ts';
import { isMountPoint, mountPoints, runCommand } from './host-commands.ts';

type Items = { key: string; path: string; mode?: number }[];
type FieldItem = {
  path: string;
  mode?: number;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
};
interface ProjectedSource {
  configMap?: { name?: string; items?: Items; optional?: boolean };
  secret?: { name?: string; items?: Items; optional?: boolean };
  downwardAPI?: { items?: FieldItem[] };
  serviceAccountToken?: { path: string };
}
interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
  configMap?: { name?: string; items?: Items; defaultMode?: number; optional?: boolean };
  secret?: { secretName?: string; items?: Items; defaultMode?: number; optional?: boolean };
  downwardAPI?: { items?: FieldItem[]; defaultMode?: number };
  projected?: { sources?: ProjectedSource[]; defaultMode?: number };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

/**
 * Where a claim's bound volume lives on this node (hostPath or local PVs, as
 * the provisioner makes them); a ConfigError says why it cannot be mounted yet.
 */
export type ClaimResolver = (namespace: string, claim: string) => Promise<string>;
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}
interface FileSpec {
  path: string;
  value: string;
  mode: number;
}

/** Volume name to host path. */
export type PodVolumePaths = Map<string, { path: string; readOnly: boolean }>;

export class PodVolumes {
  readonly root: string;
  readonly #source: ConfigSource;

  readonly #allocatable: () => { cpu: string; memory: string };

  readonly #claims: ClaimResolver | undefined;

  constructor(o: {
    root: string;
    source: ConfigSource;
    allocatable?: () => { cpu: string; memory: string };
    claims?: ClaimResolver;
  }) {
    this.#claims = o.claims;
    this.root = o.root;
    this.#source = o.source;
    this.#allocatable = o.allocatable ?? (() => ({ cpu: '1', memory: '1Gi' }));
  }

  /** Pod uids with a directory here (for garbage collection). */
  listPods(): string[] {
    return existsSync(this.root) ? readdirSync(this.root) : [];
  }

  async setup(pod: Pod): Promise<PodVolumePaths> {
    const uid = pod.metadata.uid ?? '';
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
      } else if (v.persistentVolumeClaim) {
        if (!this.#claims)
          throw new ConfigError(`volume "${v.name}": persistent volume claims are not available`);
        const path = await this.#claims(
          pod.metadata.namespace ?? 'default',
          v.persistentVolumeClaim.claimName,
        );
        await mkdir(path, { recursive: true });
        out.set(v.name, { path, readOnly: v.persistentVolumeClaim.readOnly ?? false });
      } else if (v.emptyDir) {
        await this.#dir(dir, v.emptyDir.medium === 'Memory');
        out.set(v.name, { path: dir, readOnly: false });
      } else if (v.configMap || v.secret || v.downwardAPI || v.projected) {
        const mode = (v.configMap ?? v.secret ?? v.downwardAPI ?? v.projected)?.defaultMode ?? 0o644;
        const sources: ProjectedSource[] = v.projected?.sources ?? [
          v.configMap
            ? { configMap: v.configMap }
            : v.secret
              ? { secret: { ...v.secret, name: v.secret.secretName } }
              : { downwardAPI: v.downwardAPI },
        ];
        const files: FileSpec[] = [];
        for (const src of sources) files.push(...(await this.#filesOf(pod, v.name, src, mode)));
        // Secrets (and projected volumes, which usually hold tokens) never touch the disk.
        await this.#dir(dir, !v.configMap && !v.downwardAPI);
        await writeFiles(dir, files);
        out.set(v.name, { path: dir, readOnly: true });
      }
      // persistentVolumeClaim, and others: not yet (see README).
    }
    return out;
  }

  async #filesOf(pod: Pod, volume: string, src: ProjectedSource, mode: number): Promise<FileSpec[]> {
    const ns = pod.metadata.namespace ?? 'default';
    if (src.configMap || src.secret) {
      const ref = src.configMap ?? src.secret;
      const kind = src.configMap ? 'configmap' : 'secret';
      const data = ref?.name
        ? src.configMap
          ? await this.#source.configMap(ns, ref.name)
          : await this.#source.secret(ns, ref.name)
        : undefined;
      if (!data && !ref?.optional)
        throw new ConfigError(
          `MountVolume.SetUp failed for volume "${volume}" : ${kind} "${ref?.name}" not found`,
        );
      const d = data ?? {};
      if (!ref?.items) return Object.entries(d).map(([k, v]) => ({ path: k, value: v, mode }));
      const missing = ref.items.find((i) => !(i.key in d));
      if (missing && data && !ref.optional)
        throw new ConfigError(
          `MountVolume.SetUp failed for volume "${volume}" : configmap references non-existent config key: ${missing.key}`,
        );
      return ref.items
        .filter((i) => i.key in d)
        .map((i) => ({ path: i.path, value: d[i.key] ?? '', mode: i.mode ?? mode }));
    }
    if (src.downwardAPI) {
      const ctx = { pod, podIP: '', hostIP: '', allocatable: this.#allocatable(), source: this.#source };
      return (src.downwardAPI.items ?? []).map((i) => ({
        path: i.path,
        mode: i.mode ?? mode,
        value: i.fieldRef
          ? downwardValue(i.fieldRef.fieldPath, ctx)
          : i.resourceFieldRef
            ? resourceValue(i.resourceFieldRef, undefined, ctx)
            : '',
      }));
    }
    // serviceAccountToken needs the TokenRequest API, which the server does not serve yet.
    return [];
  }

  async #dir(dir: string, tmpfs: boolean): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o777 });
    if (tmpfs && !isMountPoint(dir))
      await runCommand('mount', ['-t', 'tmpfs', '-o', 'mode=0777', 'tmpfs', dir]);
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
    const mounts = mountPoints()
      .filter((p) => p.startsWith(`${base}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await runCommand('umount', [m]).catch(() => runCommand('umount', ['-l', m]));
    await rm(base, { recursive: true, force: true });
  }
}

/** Whole label/annotation maps are written as `key="value"` lines, sorted, as upstream does. */
function downwardValue(path: string, ctx: Parameters<typeof fieldValue>[1]): string {
  if (path === 'metadata.labels' || path === 'metadata.annotations') {
    const map = (path === 'metadata.labels' ? ctx.pod.metadata.labels : ctx.pod.metadata.annotations) ?? {};
    return Object.keys(map)
      .sort()
      .map((k) => `${k}=${JSON.stringify(map[k])}`)
      .join('\n');
  }
  return fieldValue(path, ctx);
}

/** Makes `dir` hold exactly `files` (atomic renames, so readers never see half a file). */
async function writeFiles(dir: string, files: FileSpec[]): Promise<void> {
  const wanted = new Set(files.map((f) => normalize(f.path).split('/')[0]));
  for (const f of files) {
    const path = join(dir, normalize(f.path));
    if (!path.startsWith(`${dir}/`)) continue;
    await mkdir(dirname(path), { recursive: true });
    const same = await stat(path).then(
      (st) => st.isFile() && (st.mode & 0o777) === f.mode && readFileSync(path, 'utf8') === f.value,
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
