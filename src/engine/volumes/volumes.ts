import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.ts';
import { ConflictError, InvalidError, NotFoundError } from '../../lib/errors.ts';
import { randomId } from '../../lib/random-name.ts';
import type { Filters, PruneReport, VolumeCreateRequest, VolumeInspect } from '../types.ts';

const validName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

interface VolumeMeta {
  Name: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** Anonymous volumes are removed with their container on `rm -v`. */
  anonymous: boolean;
}

/**
 * Named volumes of the local driver: a directory per volume under
 * `<root>/<name>/_data` with its metadata beside it, as Docker lays them out.
 * Users of a volume are counted by the container manager through `usedBy`.
 */
export class VolumeStore {
  readonly #root: string;
  readonly #usedBy: (name: string) => string[];

  constructor(opts: { root: string; usedBy: (name: string) => string[] }) {
    this.#root = opts.root;
    this.#usedBy = opts.usedBy;
  }

  async init(): Promise<void> {
    await mkdir(this.#root, { recursive: true, mode: 0o700 });
  }

  mountpoint(name: string): string {
    return join(this.#root, name, '_data');
  }

  /** Creates a volume; creating one that exists returns it unchanged, as Docker does. */
  async create(req: VolumeCreateRequest, anonymous = false): Promise<VolumeInspect> {
    const name = req.Name || randomId();
    if (!validName.test(name)) {
      throw new InvalidError(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
      );
    }
    if (req.Driver && req.Driver !== 'local') {
      throw new InvalidError(`create ${name}: volume driver "${req.Driver}" is not supported (only "local")`);
    }
    const existing = await this.#readMeta(name).catch(() => undefined);
    if (existing) return this.#toInspect(existing);
    const meta: VolumeMeta = {
      Name: name,
      CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: req.Labels ?? {},
      Options: req.DriverOpts ?? {},
      anonymous,
    };
    await mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
    await writeFileAtomic(join(this.#root, name, 'meta.json'), JSON.stringify(meta));
    return this.#toInspect(meta);
  }

  async inspect(name: string): Promise<VolumeInspect> {
    return this.#toInspect(await this.#readMeta(name));
  }

  async isAnonymous(name: string): Promise<boolean> {
    return (await this.#readMeta(name)).anonymous;
  }

  async list(filters: Filters = {}): Promise<VolumeInspect[]> {
    const names = await readdir(this.#root).catch(() => [] as string[]);
    const out: VolumeInspect[] = [];
    for (const name of names) {
      const meta = await this.#readMeta(name).catch(() => undefined);
      if (meta && this.#matches(meta, filters)) out.push(this.#toInspect(meta));
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#readMeta(name);
    const users = this.#usedBy(name);
    if (users.length > 0 && !opts.force) {
      throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    }
    await rm(join(this.#root, name), { recursive: true, force: true });
  }

  /** Removes unused anonymous volumes, or with `all=true` every unused volume. */
  async prune(filters: Filters = {}): Promise<PruneReport> {
    const all = filters.all?.includes('true') || filters.all?.includes('1');
    const report: PruneReport = { deleted: [], spaceReclaimed: 0 };
    for (const v of await this.list(filters)) {
      const meta = await this.#readMeta(v.Name);
      if (this.#usedBy(v.Name).length > 0 || (!all && !meta.anonymous)) continue;
      report.spaceReclaimed += await directorySize(this.mountpoint(v.Name));
      await rm(join(this.#root, v.Name), { recursive: true, force: true });
      report.deleted.push(v.Name);
    }
    return report;
  }

  async size(name: string): Promise<number> {
    return directorySize(this.mountpoint(name));
  }

  #matches(meta: VolumeMeta, filters: Filters): boolean {
    for (const [key, values] of Object.entries(filters)) {
      if (key === 'name' && !values.some((v) => meta.Name.includes(v))) return false;
      if (key === 'driver' && !values.includes('local')) return false;
      if (key === 'dangling') {
        const dangling = this.#usedBy(meta.Name).length === 0;
        if (!values.some((v) => (v === 'true' || v === '1') === dangling)) return false;
      }
      if (key === 'label') {
        for (const v of values) {
          const i = v.indexOf('=');
          const ok = i < 0 ? v in meta.Labels : meta.Labels[v.slice(0, i)] === v.slice(i + 1);
          if (!ok) return false;
        }
      }
    }
    return true;
  }

  async #readMeta(name: string): Promise<VolumeMeta> {
    if (!validName.test(name)) throw new NotFoundError(`get ${name}: no such volume`);
    try {
      return JSON.parse(await readFile(join(this.#root, name, 'meta.json'), 'utf8')) as VolumeMeta;
    } catch (err) {
      throw new NotFoundError(`get ${name}: no such volume`, { cause: err });
    }
  }

  #toInspect(meta: VolumeMeta): VolumeInspect {
    return {
      CreatedAt: meta.CreatedAt,
      Driver: 'local',
      Labels: Object.keys(meta.Labels).length ? meta.Labels : null,
      Mountpoint: this.mountpoint(meta.Name),
      Name: meta.Name,
      Options: Object.keys(meta.Options).length ? meta.Options : null,
      Scope: 'local',
    };
  }
}

/** Bytes used by the files under a directory (apparent sizes; hard links counted once). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const s = await stat(p).catch(() => undefined);
        if (!s) continue;
        const key = `${s.dev}:${s.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += s.size;
      }
    }
  };
  await walk(dir);
  return total;
}
