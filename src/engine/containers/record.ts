import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../../lib/atomic-file.ts';
import { AlreadyExistsError, InvalidError, NotFoundError } from '../../lib/errors.ts';
import type {
  ContainerConfig,
  ContainerStatus,
  EndpointSettings,
  HostConfig,
  MountPoint,
  PortBinding,
} from '../types.ts';

/** What the engine persists about a container; everything else is derived. */
export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  created: string;
  /** The reference the user gave (`busybox`), shown by ps. */
  imageRef: string;
  imageId: string;
  /** The image's config merged with the request's. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Networks to join at start, with the requested endpoint settings. */
  networks: Record<string, EndpointSettings>;
  mounts: MountPoint[];
  path: string;
  args: string[];
  state: {
    status: ContainerStatus;
    pid: number;
    exitCode: number;
    error: string;
    startedAt: string;
    finishedAt: string;
    oomKilled: boolean;
  };
  restartCount: number;
  /** Set by an explicit stop/kill, so `unless-stopped` and `always` do not restart it. */
  stoppedByUser: boolean;
  /** The live network sandbox, while running. */
  sandbox?: { netnsPath: string; ports: Record<string, PortBinding[] | null> };
  execIds: string[];
}

export const zeroTime = '0001-01-01T00:00:00Z';

const validName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * The container records: one JSON file per container in its directory,
 * written atomically, with an in-memory index by id and by name. Lookups take
 * a full id, a unique prefix or a name, like Docker's.
 */
export class ContainerRecords {
  readonly #root: string;
  readonly #byId = new Map<string, ContainerRecord>();
  readonly #byName = new Map<string, string>();

  constructor(root: string) {
    this.#root = root;
  }

  dir(id: string): string {
    return join(this.#root, id);
  }

  async load(): Promise<ContainerRecord[]> {
    await mkdir(this.#root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.#root)) {
      try {
        const rec = JSON.parse(
          await readFile(join(this.#root, id, 'container.json'), 'utf8'),
        ) as ContainerRecord;
        this.#byId.set(rec.id, rec);
        this.#byName.set(rec.name, rec.id);
      } catch {
        // A directory without a record is a create that crashed half way; the
        // engine removes such leftovers at start.
      }
    }
    return [...this.#byId.values()];
  }

  all(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  /** Reserves a name for a new record; throws when it is taken or malformed. */
  claimName(name: string, id: string): void {
    if (!validName.test(name)) {
      throw new InvalidError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const owner = this.#byName.get(name);
    if (owner && owner !== id) {
      throw new AlreadyExistsError(
        `Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.#byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.#byName.get(name) === id) this.#byName.delete(name);
  }

  isNameTaken(name: string): boolean {
    return this.#byName.has(name);
  }

  async save(rec: ContainerRecord): Promise<void> {
    this.#byId.set(rec.id, rec);
    this.#byName.set(rec.name, rec.id);
    const target = join(this.#root, rec.id, 'container.json');
    if (!rec.hostConfig.AutoRemove) {
      await writeFileAtomic(target, JSON.stringify(rec));
      return;
    }
    // An --rm container's record is atomic but not fsynced: it only has to
    // survive a daemon restart (the page cache does). After a machine crash its
    // container is gone; a record lost or torn then makes load() skip it and
    // init() removes the directory as a leftover. Saves the fsyncs (file and
    // directory) on each state change of the run --rm path.
    const tmp = tempPathFor(target);
    try {
      await writeFile(tmp, JSON.stringify(rec));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async remove(rec: ContainerRecord): Promise<void> {
    this.#byId.delete(rec.id);
    this.releaseName(rec.name, rec.id);
    await rm(join(this.#root, rec.id), { recursive: true, force: true });
  }

  find(ref: string): ContainerRecord | undefined {
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.#byName.get(name);
    if (byName) return this.#byId.get(byName);
    const exact = this.#byId.get(ref);
    if (exact) return exact;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let match: ContainerRecord | undefined;
    for (const [id, rec] of this.#byId) {
      if (!id.startsWith(ref)) continue;
      if (match) throw new InvalidError(`multiple IDs found with provided prefix: ${ref}`);
      match = rec;
    }
    return match;
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw new NotFoundError(`No such container: ${ref}`);
    return rec;
  }
}
