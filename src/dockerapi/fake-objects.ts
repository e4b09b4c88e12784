/**
 * Test support: the image, network, volume and event half of the fake
 * engine (fake-engine.ts adds containers and exec). In memory, no I/O.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  EngineEvent,
  Filters,
  ImageDeleteItem,
  ImageHistoryItem,
  ImageInspect,
  ImageSummary,
  NetworkCreateRequest,
  NetworkInspect,
  ProgressMessage,
  PruneReport,
  VolumeCreateRequest,
  VolumeInspect,
} from '../engine/types.ts';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { Channel } from './fake-process.ts';

export const hex64 = (seed: string): string => createHash('sha256').update(seed).digest('hex');
export const nowRfc3339 = (): string => new Date().toISOString().replace('Z', '000000Z');

export function normalizeRef(ref: string): string {
  const slash = ref.lastIndexOf('/');
  return ref.lastIndexOf(':') > slash ? ref : `${ref}:latest`;
}

interface FakeImage {
  id: string;
  tags: string[];
  created: number;
  comment: string;
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class FakeObjects {
  protected readonly images = new Map<string, FakeImage>();
  protected readonly networks = new Map<string, NetworkInspect>();
  protected readonly volumes = new Map<string, VolumeInspect>();
  readonly eventLog: EngineEvent[] = [];
  private readonly eventListeners = new Set<(e: EngineEvent) => void>();

  constructor() {
    const id = `sha256:${hex64('busybox')}`;
    this.images.set(id, { id, tags: ['busybox:latest'], created: 1_700_000_000, comment: 'Imported from -' });
    for (const [name, driver] of [
      ['bridge', 'bridge'],
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      this.networks.set(name, this.networkObject({ Name: name, Driver: driver }));
    }
  }

  /** How many events() iterators are live: tests check that aborted streams let go. */
  liveEventStreams(): number {
    return this.eventListeners.size;
  }

  emitEvent(
    Type: EngineEvent['Type'],
    Action: string,
    ID: string,
    Attributes: Record<string, string> = {},
  ): void {
    const ns = BigInt(Date.now()) * 1_000_000n;
    const ev: EngineEvent = {
      Type,
      Action,
      Actor: { ID, Attributes },
      scope: 'local',
      time: Number(ns / 1_000_000_000n),
      timeNano: Number(ns),
    };
    if (Type === 'container') Object.assign(ev, { status: Action, id: ID, from: Attributes.image ?? '' });
    this.eventLog.push(ev);
    for (const l of this.eventListeners) l(ev);
  }

  async *events(opts: { since?: number; until?: number; filters?: Filters; signal?: AbortSignal }) {
    const matches = (e: EngineEvent) =>
      (!opts.filters?.type || opts.filters.type.includes(e.Type)) &&
      (!opts.filters?.event || opts.filters.event.includes(e.Action)) &&
      (opts.since === undefined || e.timeNano / 1e9 >= opts.since) &&
      (opts.until === undefined || e.timeNano / 1e9 <= opts.until);
    const live = new Channel<EngineEvent>();
    const listener = (e: EngineEvent) => live.push(e);
    const stop = () => live.end();
    this.eventListeners.add(listener);
    opts.signal?.addEventListener('abort', stop);
    const timer =
      opts.until !== undefined ? setTimeout(stop, Math.max(0, opts.until * 1000 - Date.now())) : null;
    try {
      // Like dockerd: history only when asked for with since.
      if (opts.since !== undefined) for (const e of [...this.eventLog]) if (matches(e)) yield e;
      for await (const e of live) if (matches(e)) yield e;
    } finally {
      this.eventListeners.delete(listener);
      opts.signal?.removeEventListener('abort', stop);
      if (timer) clearTimeout(timer);
    }
  }

  protected findImage(ref: string): FakeImage {
    const full = normalizeRef(ref.replace(/^docker\.io\/library\//, ''));
    for (const img of this.images.values()) {
      if (img.tags.includes(full) || img.id === ref || img.id.startsWith(`sha256:${ref}`)) return img;
    }
    throw new NotFoundError(`no such image: ${full}`);
  }

  async listImages(): Promise<ImageSummary[]> {
    return [...this.images.values()].map((i) => ({
      Id: i.id,
      ParentId: '',
      RepoTags: i.tags.length > 0 ? i.tags : ['<none>:<none>'],
      RepoDigests: [],
      Created: i.created,
      Size: 1_984_264,
      SharedSize: -1,
      VirtualSize: 1_984_264,
      Labels: null,
      Containers: -1,
    }));
  }
  async inspectImage(ref: string): Promise<ImageInspect> {
    const i = this.findImage(ref);
    return {
      Id: i.id,
      RepoTags: i.tags,
      RepoDigests: [],
      Parent: '',
      Comment: i.comment,
      Created: new Date(i.created * 1000).toISOString(),
      Container: '',
      DockerVersion: '',
      Author: '',
      Config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      Architecture: 'amd64',
      Os: 'linux',
      Size: 1_984_264,
      GraphDriver: { Name: 'overlay2', Data: null },
      RootFS: { Type: 'layers', Layers: [`sha256:${hex64(i.id)}`] },
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    };
  }
  async tagImage(ref: string, repo: string, tag?: string): Promise<void> {
    const i = this.findImage(ref);
    i.tags.push(`${repo.replace(/^docker\.io\/library\//, '')}:${tag || 'latest'}`);
    this.emitEvent('image', 'tag', i.id, { name: `${repo}:${tag || 'latest'}` });
  }
  async removeImage(ref: string): Promise<ImageDeleteItem[]> {
    const i = this.findImage(ref);
    const full = normalizeRef(ref);
    if (i.tags.length > 1 && i.tags.includes(full)) {
      i.tags = i.tags.filter((t) => t !== full);
      return [{ Untagged: full }];
    }
    this.images.delete(i.id);
    return [...i.tags.map((t) => ({ Untagged: t })), { Deleted: i.id }];
  }
  async imageHistory(ref: string): Promise<ImageHistoryItem[]> {
    const i = this.findImage(ref);
    return [
      { Id: i.id, Created: i.created, CreatedBy: '', Tags: i.tags, Size: 1_984_264, Comment: i.comment },
    ];
  }
  async saveImages(refs: string[]): Promise<Readable> {
    const tags = refs.map((r) => this.findImage(r).tags[0] ?? r);
    return Readable.from([Buffer.from(`fake-tar:${tags.join(',')}`)]);
  }
  async loadImages(tar: Readable, onProgress?: (m: ProgressMessage) => void): Promise<{ loaded: string[] }> {
    const text = (await readAll(tar)).toString();
    if (!text.startsWith('fake-tar:'))
      throw new InvalidError('loading images: the input is not an image archive');
    onProgress?.({ status: 'Loading layer', id: 'abc' });
    const loaded = text.slice('fake-tar:'.length).split(',');
    for (const tag of loaded) {
      const id = `sha256:${hex64(tag)}`;
      if (!this.images.has(id)) this.images.set(id, { id, tags: [tag], created: 1_700_000_000, comment: '' });
    }
    return { loaded };
  }
  async importImage(tar: Readable, opts: { repo?: string; tag?: string; message?: string }) {
    const body = await readAll(tar);
    const id = `sha256:${hex64(body.toString('latin1'))}`;
    const tags = opts.repo ? [`${opts.repo}:${opts.tag ?? 'latest'}`] : [];
    this.images.set(id, {
      id,
      tags,
      created: Math.floor(Date.now() / 1000),
      comment: opts.message ?? 'Imported from -',
    });
    return { Id: id };
  }
  async pruneImages(): Promise<PruneReport> {
    return { deleted: [], spaceReclaimed: 0 };
  }

  private networkObject(req: NetworkCreateRequest): NetworkInspect {
    return {
      Name: req.Name,
      Id: hex64(`net-${req.Name}`),
      Created: nowRfc3339(),
      Scope: 'local',
      Driver: req.Driver ?? 'bridge',
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] },
      Internal: req.Internal ?? false,
      Attachable: req.Attachable ?? false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: {},
      Options: req.Options ?? {},
      Labels: req.Labels ?? {},
    };
  }
  protected findNetwork(ref: string): NetworkInspect {
    for (const n of this.networks.values()) if (n.Name === ref || n.Id.startsWith(ref)) return n;
    throw new NotFoundError(`network ${ref} not found`);
  }
  async createNetwork(req: NetworkCreateRequest) {
    if (this.networks.has(req.Name))
      throw new AlreadyExistsError(`network with name ${req.Name} already exists`);
    const n = this.networkObject(req);
    this.networks.set(req.Name, n);
    this.emitEvent('network', 'create', n.Id, { name: n.Name, type: n.Driver });
    return { Id: n.Id, Warning: '' };
  }
  async listNetworks(filters?: Filters) {
    return [...this.networks.values()].filter(
      (n) => !filters?.name || filters.name.some((x) => n.Name.includes(x)),
    );
  }
  async inspectNetwork(ref: string) {
    return this.findNetwork(ref);
  }
  async removeNetwork(ref: string) {
    const n = this.findNetwork(ref);
    if (Object.keys(n.Containers).length > 0) {
      throw new ConflictError(
        `error while removing network: network ${n.Name} id ${n.Id} has active endpoints`,
      );
    }
    this.networks.delete(n.Name);
  }
  async pruneNetworks(): Promise<PruneReport> {
    return { deleted: [], spaceReclaimed: 0 };
  }

  async createVolume(req: VolumeCreateRequest) {
    const name = req.Name || hex64(`vol-${Date.now()}-${Math.random()}`);
    const existing = this.volumes.get(name);
    if (existing) return existing;
    const v: VolumeInspect = {
      Name: name,
      Driver: req.Driver ?? 'local',
      Mountpoint: `/var/lib/drover/volumes/${name}/_data`,
      CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: req.Labels ?? null,
      Scope: 'local',
      Options: req.DriverOpts ?? null,
    };
    this.volumes.set(name, v);
    this.emitEvent('volume', 'create', name, { driver: v.Driver });
    return v;
  }
  async listVolumes() {
    return [...this.volumes.values()];
  }
  async inspectVolume(name: string) {
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }
  async removeVolume(name: string) {
    await this.inspectVolume(name);
    this.volumes.delete(name);
  }
  async pruneVolumes(): Promise<PruneReport> {
    const deleted = [...this.volumes.keys()];
    this.volumes.clear();
    return { deleted, spaceReclaimed: 0 };
  }
}
