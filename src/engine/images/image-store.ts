/**
 * The image store: content-addressed blobs, unpacked layer snapshots and the
 * tag database, behind the calls the engine makes (Docker API shapes out).
 *
 *   <root>/blobs/sha256/<hex>   manifests, configs, layer blobs
 *   <root>/snapshots/<chain>/fs unpacked layers, <root>/l/<short> links
 *   <root>/images.json          records and tags
 *
 * Every mutation of images.json is atomic; blobs and snapshots appear whole
 * or not at all; gc deletes only what no record references.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ConflictError, InvalidError, NotFoundError } from '../../lib/errors.ts';
import type {
  ImageDeleteItem,
  ImageHistoryItem,
  ImageInspect,
  ImageSummary,
  ProgressMessage,
} from '../types.ts';
import { loadArchive } from './archive-load.ts';
import { saveArchive } from './archive-save.ts';
import { type CommitOptions, commitRootfs } from './commit.ts';
import { ContentStore } from './content-store.ts';
import { matchesFilters } from './filters.ts';
import { type ImportOptions, importRootfs } from './import.ts';
import { packDirectory } from './layer-tar.ts';
import { type ImageRecord, Metadata } from './metadata.ts';
import type { Descriptor, ImageConfig } from './oci.ts';
import { familiarReference, formatReference, isFullId, parseReference, referenceFor } from './reference.ts';
import { registerImage, setTag } from './register.ts';
import {
  type Change,
  diffUpper,
  isRootfsMounted,
  mountRootfs,
  type RootfsRecord,
  readRootfsRecord,
  rootfsPaths,
  unmountRootfs,
  unmountWhenDone,
} from './rootfs.ts';
import { Snapshots } from './snapshots.ts';
import { toHistory, toInspect, toSummary } from './views.ts';

export interface ImageStoreOptions {
  /** Where blobs, snapshots and metadata live, e.g. `/var/lib/drover/images`. */
  root: string;
  /** Ids of the containers that use an image (their rootfs stacks on it). */
  containersUsing?: (imageId: string) => string[] | Promise<string[]>;
  log?: Logger;
}

/** An image to add: its config bytes and layer blobs already in the content store. */
export interface NewImage {
  config: Uint8Array;
  layers: Descriptor[];
  /** Full references to point at the image (moved from other images). */
  tags?: string[];
  digests?: string[];
  parent?: string;
  /** The manifest bytes as received; one is generated when absent. */
  manifest?: Uint8Array;
}

export interface Registered {
  id: string;
  /** Tags taken from other images: `{ tag, from }` (full reference, old image id). */
  moved: { tag: string; from: string }[];
}

export class ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshots: Snapshots;
  readonly meta: Metadata;
  readonly log: Logger | undefined;
  private readonly containersUsing: (imageId: string) => string[] | Promise<string[]>;
  private readonly configs = new Map<string, ImageConfig>();
  /** Blobs and snapshots being written by a load/import not yet recorded: gc keeps them. */
  private readonly leases = new Map<string, number>();

  constructor(opts: ImageStoreOptions) {
    this.root = opts.root;
    this.content = new ContentStore(opts.root);
    this.snapshots = new Snapshots(opts.root);
    this.meta = new Metadata(opts.root);
    this.log = opts.log;
    this.containersUsing = opts.containersUsing ?? (() => []);
  }

  /** Creates the directories, reads the metadata and clears leftovers of a crash. */
  async init(): Promise<void> {
    await this.content.init();
    await this.snapshots.init();
    await this.meta.load();
  }

  /**
   * Finds an image by full id, tag or digest reference, or unique id prefix.
   * Throws NotFoundError "No such image: <ref>".
   */
  resolve(ref: string): ImageRecord {
    const notFound = () => new NotFoundError(`No such image: ${ref}`);
    if (isFullId(ref)) {
      const r = this.meta.get(ref.startsWith('sha256:') ? ref : `sha256:${ref}`);
      if (r) return r;
      throw notFound();
    }
    let full: string | undefined;
    try {
      full = formatReference(parseReference(ref));
    } catch {}
    const byRef = full === undefined ? undefined : this.meta.byReference(full);
    if (byRef) return byRef;
    const prefix = ref.startsWith('sha256:') ? ref.slice(7) : ref;
    if (/^[a-f0-9]+$/.test(prefix)) {
      const hits = this.meta.all().filter((r) => r.id.slice(7).startsWith(prefix));
      if (hits.length > 1) throw new InvalidError(`image id prefix "${ref}" is ambiguous`);
      if (hits[0]) return hits[0];
    }
    throw notFound();
  }

  /** The image config (Cmd, Env, ...), cached. */
  async config(ref: string): Promise<ImageConfig> {
    const id = this.resolve(ref).id;
    return this.configById(id);
  }

  private async configById(id: string): Promise<ImageConfig> {
    const hit = this.configs.get(id);
    if (hit) return hit;
    const config = await this.content.readJson<ImageConfig>(id);
    this.configs.set(id, config);
    return config;
  }

  async list(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<ImageSummary[]> {
    const f = opts.filters ?? {};
    const out: ImageSummary[] = [];
    for (const r of this.meta.all()) {
      const config = await this.configById(r.id);
      if (!matchesFilters(r, config, f)) continue;
      out.push(toSummary(r, config));
    }
    return out.sort((a, b) => b.Created - a.Created);
  }

  async inspect(ref: string): Promise<ImageInspect> {
    const r = this.resolve(ref);
    return toInspect(
      r,
      await this.configById(r.id),
      r.layers.map((l) => this.snapshots.path(l.chainId)),
    );
  }

  async history(ref: string): Promise<ImageHistoryItem[]> {
    const r = this.resolve(ref);
    return toHistory(r, await this.configById(r.id));
  }

  /** Points `repo[:tag]` at the image `ref` (moving it from any other image). */
  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const id = this.resolve(ref).id;
    const full = referenceFor(repo, tag);
    if (full.includes('@'))
      throw new InvalidError(`tagging ${ref}: cannot tag with a digest reference "${repo}"`);
    await this.meta.update((images) => setTag(images, id, full));
    this.log?.debug({ image: id, tag: full }, 'image tagged');
  }

  /**
   * Docker's `rmi`: untags a name, deletes the image when its last name goes.
   * Refuses (ConflictError) while a container uses an image it would delete,
   * unless forced, in which case the image only loses its names.
   */
  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    const r = this.resolve(ref);
    const short = r.id.slice(7, 19);
    const users = await this.containersUsing(r.id);
    const byName = !isIdLike(ref, r.id);
    const items: ImageDeleteItem[] = [];
    let untag: string[];
    if (byName) {
      const full = formatReference(parseReference(ref));
      const rest = [...r.tags, ...r.digests].filter((t) => t !== full);
      if (rest.length === 0 && users.length > 0 && !opts.force) {
        throw new ConflictError(
          `conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]?.slice(0, 12)} is using its referenced image ${short}`,
        );
      }
      untag = [full];
    } else {
      if (r.tags.length > 1 && !opts.force) {
        throw new ConflictError(
          `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
        );
      }
      if (users.length > 0 && !opts.force) {
        throw new ConflictError(
          `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${users[0]?.slice(0, 12)}`,
        );
      }
      untag = [...r.tags, ...r.digests];
    }
    const deleted = await this.meta.update((images) => {
      const rec = images[r.id];
      if (!rec) return false;
      rec.tags = rec.tags.filter((t) => !untag.includes(t));
      rec.digests = rec.digests.filter((t) => !untag.includes(t));
      if (rec.tags.length === 0 && rec.digests.length === 0 && users.length === 0) {
        delete images[r.id];
        return true;
      }
      return false;
    });
    for (const t of untag) items.push({ Untagged: familiarReference(t) });
    if (deleted) {
      items.push({ Deleted: r.id });
      this.configs.delete(r.id);
      await this.gc();
    }
    return items;
  }

  /** Removes dangling images (or, with `dangling=false`, every image no container uses). */
  async prune(
    filters: Record<string, string[]> = {},
  ): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    const danglingOnly = !(filters.dangling ?? []).some((v) => v === 'false' || v === '0');
    const doomed: string[] = [];
    for (const r of this.meta.all()) {
      if (danglingOnly && r.tags.length > 0) continue;
      if ((await this.containersUsing(r.id)).length > 0) continue;
      const { label = [], 'label!': notLabel = [], until = [] } = filters;
      if (!matchesFilters(r, await this.configById(r.id), { label, 'label!': notLabel, until })) continue;
      doomed.push(r.id);
    }
    await this.meta.update((images) => {
      for (const id of doomed) delete images[id];
    });
    for (const id of doomed) this.configs.delete(id);
    const freed = await this.gc();
    return { deleted: doomed, spaceReclaimed: freed.bytes };
  }

  /** Deletes blobs and snapshots that no image references (nor an operation in flight). */
  async gc(): Promise<{ blobs: number; snapshots: number; bytes: number }> {
    const keep = new Set<string>(this.leases.keys());
    for (const r of this.meta.all()) {
      keep.add(r.id);
      keep.add(r.manifestDigest);
      for (const l of r.layers) {
        keep.add(l.digest);
        keep.add(l.chainId);
      }
    }
    let blobs = 0;
    let snapshots = 0;
    let bytes = 0;
    for (const d of await this.content.list()) {
      if (keep.has(d)) continue;
      bytes += await this.content.delete(d);
      blobs++;
    }
    for (const c of await this.snapshots.list()) {
      if (keep.has(c)) continue;
      bytes += await this.snapshots.size(c);
      await this.snapshots.remove(c);
      snapshots++;
    }
    if (blobs + snapshots > 0) this.log?.debug({ blobs, snapshots, bytes }, 'image gc');
    return { blobs, snapshots, bytes };
  }

  /** `docker load` of a Docker or OCI archive; see archive-load.ts. */
  load(tar: Readable, onProgress?: (m: ProgressMessage) => void): Promise<{ loaded: string[] }> {
    return loadArchive(this, tar, onProgress);
  }

  /** `docker save`: a tar both Docker and OCI tools load; see archive-save.ts. */
  save(refs: string[]): Promise<Readable> {
    return saveArchive(this, refs);
  }

  /** `docker import` of a rootfs tarball; see import.ts. */
  import(tar: Readable, opts: ImportOptions = {}): Promise<{ Id: string }> {
    return importRootfs(this, tar, opts);
  }

  /** `docker commit` of a container directory prepared by prepareRootfs; see commit.ts. */
  commit(containerDir: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    return commitRootfs(this, containerDir, opts);
  }

  /**
   * Mounts the image's layers with `<containerDir>/upper` on top at
   * `<containerDir>/rootfs` and returns that path. Idempotent; the hot path
   * of `run`: one mount(2) through the addon, about 0.5 ms. `volatile` suits
   * `run --rm` (no syncs, faster unmount; see OverlaySpec).
   */
  async prepareRootfs(
    imageRef: string,
    containerDir: string,
    opts: { volatile?: boolean } = {},
  ): Promise<string> {
    const r = this.resolve(imageRef);
    const record: RootfsRecord = { imageId: r.id, chainIds: r.layers.map((l) => l.chainId) };
    if (opts.volatile) record.volatile = true;
    return mountRootfs(this.snapshots, record, containerDir);
  }

  /** Unmounts the rootfs; `remove` also deletes the container's changes. Safe to repeat. */
  releaseRootfs(containerDir: string, opts: { remove?: boolean } = {}): Promise<void> {
    return unmountRootfs(containerDir, opts);
  }

  /** `docker diff`: the container's changes, from its upperdir (mounted or not). */
  diffRootfs(containerDir: string): Promise<Change[]> {
    return diffUpper(this.snapshots, containerDir);
  }

  /** `docker export`: a tar of the merged filesystem (mounted for the duration if needed). */
  async exportRootfs(containerDir: string): Promise<Readable> {
    const { rootfs } = rootfsPaths(containerDir);
    if (isRootfsMounted(rootfs)) return packDirectory(rootfs);
    await mountRootfs(this.snapshots, await readRootfsRecord(containerDir), containerDir);
    return unmountWhenDone(packDirectory(rootfs), rootfs);
  }

  /** Keeps `keys` (digests, chain ids) from gc until the returned function is called. */
  lease(keys: string[]): () => void {
    for (const k of keys) this.leases.set(k, (this.leases.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of keys) {
        const n = (this.leases.get(k) ?? 1) - 1;
        if (n <= 0) this.leases.delete(k);
        else this.leases.set(k, n);
      }
    };
  }

  /**
   * Adds an image whose layer blobs are in the content store: unpacks missing
   * snapshots, stores config and manifest, records it and moves `tags` to it.
   */
  async register(img: NewImage): Promise<Registered> {
    const { id, moved, config } = await registerImage(this, img);
    this.configs.set(id, config);
    return { id, moved };
  }
}

function isIdLike(ref: string, id: string): boolean {
  const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref;
  return /^[a-f0-9]+$/.test(hex) && id.slice(7).startsWith(hex);
}
