/**
 * Engine: the container engine as one object. It owns the parts (images,
 * networks, volumes, the OCI runtime, the container manager, events) and
 * implements EngineApi, the surface the Docker API server, the CLI and the
 * kubelet use. Composition happens in init(); each call delegates to the part
 * that owns the concept.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, InvalidError, UnavailableError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { extractIntoRoot, packPath, resolveInRoot, statInRoot } from './containers/archive.ts';
import { attachSession } from './containers/attach.ts';
import { Execs } from './containers/exec.ts';
import { containerPaths, psFilter, toInspect, toSummary } from './containers/inspect.ts';
import { logLimits, rotatedFiles } from './containers/log-rotation.ts';
import { readLogs } from './containers/logs.ts';
import { ContainerManager } from './containers/manager.ts';
import type { ContainerRecord } from './containers/record.ts';
import { normalizeSignal } from './containers/signals.ts';
import { containerStats } from './containers/stats.ts';
import { cgroupPids, topProcesses } from './containers/top.ts';
import { EventBus } from './events.ts';
import { ImageStore } from './images/image-store.ts';
import { imageSize } from './images/views.ts';
import { NetworkManager } from './network/manager.ts';
import {
  type CgroupLayout,
  cgroupDirs,
  containerCgroupsPath,
  detectCgroups,
  ensureHybridFix,
} from './oci/cgroups.ts';
import { readHostInfo } from './oci/host.ts';
import { Runtime } from './oci/runtime.ts';
import { ensureTmpfs } from './oci/state-dir.ts';
import { engineInfo, engineVersionReport } from './system-info.ts';
import type {
  ContainerConfig,
  ContainerCreateRequest,
  ContainerInspect,
  ContainerSummary,
  EndpointSettings,
  EngineApi,
  EngineEvent,
  ExecCreateRequest,
  ExecInspect,
  Filters,
  ImageDeleteItem,
  ImageHistoryItem,
  ImageInspect,
  ImageSummary,
  LogEntry,
  LogOptions,
  NetworkCreateRequest,
  NetworkInspect,
  PathStat,
  ProgressMessage,
  PruneReport,
  StatsSample,
  StdioSession,
  VolumeCreateRequest,
  VolumeInspect,
} from './types.ts';
import { directorySize, VolumeStore } from './volumes/volumes.ts';

export { engineVersion } from './system-info.ts';

export interface EngineOptions {
  /** Persistent state: images, containers, volumes, networks. Default /var/lib/drover. */
  dataDir: string;
  /** Runtime state on tmpfs: conmon/crun state, sockets. Default /run/drover. */
  runDir: string;
  log: Logger;
  /** `crun` (default) or `runc`. */
  runtime?: string;
  /** Cap for each container's log file (bytes); conmon truncates past it. */
  logMaxSize?: number;
  /**
   * Prefix for the kernel objects the engine names (bridges, netns, nftables
   * table), so that several engines (tests, a second daemon) can share a host.
   * Default: drover0 / drv- / drover- / drover.
   */
  namePrefix?: string;
}

export class Engine implements EngineApi {
  readonly bus = new EventBus();
  readonly #o: EngineOptions;
  readonly #log: Logger;
  #cgroups!: CgroupLayout;
  runtime!: Runtime;
  images!: ImageStore;
  networks!: NetworkManager;
  volumes!: VolumeStore;
  containers!: ContainerManager;
  #execs!: Execs;

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'engine' });
  }

  /** Brings every part up and reconciles with what survived a restart. */
  async init(): Promise<void> {
    const o = this.#o;
    await mkdir(o.dataDir, { recursive: true, mode: 0o711 });
    await mkdir(o.runDir, { recursive: true, mode: 0o711 });
    // Two engines on one data dir would each sweep the other's state as leftovers.
    await claimDataDir(join(o.dataDir, 'engine.pid'));
    this.#cgroups = await detectCgroups();
    await ensureHybridFix(this.#log, this.#cgroups);
    // conmon fsyncs its pid and exit files: on tmpfs that costs nothing.
    await ensureTmpfs(join(o.runDir, 'oci'), this.#log);
    const host = await readHostInfo();
    this.runtime = new Runtime({
      runtime: o.runtime ?? 'crun',
      stateRoot: join(o.runDir, 'oci'),
      log: this.#log,
    });
    this.images = new ImageStore({
      root: join(o.dataDir, 'images'),
      containersUsing: (imageId) =>
        this.containers.records
          .all()
          .filter((c) => c.imageId === imageId)
          .map((c) => c.id),
      log: this.#log,
    });
    this.networks = new NetworkManager({
      dataDir: join(o.dataDir, 'network'),
      runDir: join(o.runDir, 'network'),
      log: this.#log,
      ...(o.namePrefix
        ? {
            defaultBridge: `${o.namePrefix}0`,
            bridgePrefix: `${o.namePrefix}-`,
            netnsPrefix: `${o.namePrefix}-`,
            table: o.namePrefix,
          }
        : {}),
    });
    this.volumes = new VolumeStore({
      root: join(o.dataDir, 'volumes'),
      usedBy: (name) =>
        this.containers.records
          .all()
          .filter((c) => c.mounts.some((m) => m.Type === 'volume' && m.Name === name))
          .map((c) => c.id),
    });
    this.containers = new ContainerManager({
      root: join(o.dataDir, 'containers'),
      runtime: this.runtime,
      images: this.images,
      networks: this.networks,
      volumes: this.volumes,
      events: this.bus,
      cgroups: this.#cgroups,
      host,
      log: this.#log,
      initBinary: await findInit(),
      logMaxSize: o.logMaxSize,
    });
    this.#execs = new Execs({ runtime: this.runtime, containerDir: (rec) => this.containers.dir(rec) });
    await Promise.all([this.images.init(), this.networks.init(), this.volumes.init()]);
    await this.containers.init();
    this.containers.startLogRotation();
    this.#log.info({ dataDir: o.dataDir, cgroups: this.#cgroups.mode }, 'engine ready');
  }

  /** Stops watching; containers keep running (conmon holds them). */
  async close(): Promise<void> {
    this.containers?.close();
    this.runtime?.close();
    await this.networks?.close();
  }

  // ---------------------------------------------------------------- system

  info(): Promise<Record<string, unknown>> {
    return engineInfo({
      containers: this.containers,
      images: this.images,
      runtime: this.runtime,
      cgroupMode: this.#cgroups.mode,
      dataDir: this.#o.dataDir,
    });
  }

  version(): Promise<Record<string, unknown>> {
    return engineVersionReport(this.runtime);
  }

  async diskUsage(): Promise<Record<string, unknown>> {
    const images = await this.images.list({ all: true });
    const containers = await this.listContainers({ all: true, size: true });
    const volumes = await Promise.all(
      (await this.volumes.list()).map(async (v) => ({
        ...v,
        UsageData: { Size: await this.volumes.size(v.Name), RefCount: this.#volumeUsers(v.Name).length },
      })),
    );
    const layersSize = images.reduce((sum, i) => sum + i.Size, 0);
    return {
      LayersSize: layersSize,
      Images: images,
      Containers: containers,
      Volumes: volumes,
      BuildCache: [],
    };
  }

  events(opts: {
    since?: number;
    until?: number;
    filters?: Filters;
    signal?: AbortSignal;
  }): AsyncIterable<EngineEvent> {
    return this.bus.stream(opts);
  }

  // ---------------------------------------------------------------- containers

  createContainer(req: ContainerCreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    return this.containers.create(req);
  }
  startContainer(ref: string): Promise<void> {
    return this.containers.start(ref);
  }
  stopContainer(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void> {
    return this.containers.stop(ref, opts);
  }
  killContainer(ref: string, signal?: string): Promise<void> {
    return this.containers.kill(ref, signal);
  }
  restartContainer(ref: string, opts?: { timeout?: number }): Promise<void> {
    return this.containers.restart(ref, opts);
  }
  pauseContainer(ref: string): Promise<void> {
    return this.containers.pause(ref);
  }
  unpauseContainer(ref: string): Promise<void> {
    return this.containers.unpause(ref);
  }
  async removeContainer(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void> {
    const rec = this.containers.records.get(ref);
    await this.containers.remove(ref, opts);
    this.#execs.forget(rec.id);
  }
  renameContainer(ref: string, newName: string): Promise<void> {
    return this.containers.rename(ref, newName);
  }
  async waitContainer(
    ref: string,
    condition?: 'not-running' | 'next-exit' | 'removed',
    signal?: AbortSignal,
  ): Promise<{ StatusCode: number; Error?: { Message: string } }> {
    const code = await this.containers.wait(ref, condition, signal);
    return { StatusCode: code };
  }

  async listContainers(
    opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {},
  ): Promise<ContainerSummary[]> {
    const matches = psFilter(opts.filters ?? {}, (rec, ref) => this.#imageMatches(rec, ref));
    let recs = this.containers.records
      .all()
      .filter(
        (r) =>
          opts.all ||
          (opts.limit ?? 0) > 0 ||
          r.state.status === 'running' ||
          r.state.status === 'paused' ||
          r.state.status === 'restarting',
      )
      .filter(matches)
      .sort((a, b) => b.created.localeCompare(a.created));
    if (opts.limit && opts.limit > 0) recs = recs.slice(0, opts.limit);
    const out = recs.map(toSummary);
    if (opts.size) {
      await Promise.all(
        out.map(async (s, i) => {
          s.SizeRw = await directorySize(join(this.containers.dir(recs[i]!), 'upper'));
          s.SizeRootFs = s.SizeRw + (this.#imageSize(recs[i]!.imageId) ?? 0);
        }),
      );
    }
    return out;
  }

  async inspectContainer(ref: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    const rec = this.containers.records.get(ref);
    const out = toInspect(rec, this.containers.dir(rec));
    if (opts.size) {
      out.SizeRw = await directorySize(join(this.containers.dir(rec), 'upper'));
      out.SizeRootFs = out.SizeRw + (this.#imageSize(rec.imageId) ?? 0);
    }
    return out;
  }

  containerLogs(ref: string, opts: LogOptions): AsyncIterable<LogEntry> {
    const rec = this.containers.records.get(ref);
    const isLive = () =>
      ['running', 'paused', 'restarting'].includes(rec.state.status) &&
      !!this.containers.records.find(rec.id);
    const log = containerPaths(this.containers.dir(rec)).log;
    return logsAcrossRotation(log, rotatedFiles(log, logLimits(rec.hostConfig.LogConfig)), {
      ...opts,
      exited: () => !isLive(),
    });
  }

  /**
   * Attach: output follows the container's log from this moment (conmon
   * writes every byte of stdout/stderr there), so attaching costs no extra
   * process and sees exactly what `logs` would.
   */
  async attachContainer(
    ref: string,
    opts: { stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; stream?: boolean },
  ): Promise<StdioSession> {
    const rec = this.containers.records.get(ref);
    return attachSession(
      { containers: this.containers, runtime: this.runtime, log: this.#log },
      rec,
      opts,
      (rows, cols) => this.resizeContainer(rec.id, rows, cols),
    );
  }

  async resizeContainer(ref: string, rows: number, cols: number): Promise<void> {
    const rec = this.containers.records.get(ref);
    if (rec.state.status !== 'running') throw new ConflictError(`Container ${rec.id} is not running`);
    if (!rec.config.Tty) return;
    const handle = this.runtime.attach(rec.id);
    try {
      await handle.resize(rows, cols);
    } finally {
      handle.close();
    }
  }

  async topContainer(ref: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const rec = this.#running(ref);
    const pids = await cgroupPids(cgroupDirs(this.#cgroups, containerCgroupsPath(rec.id)));
    return topProcesses(pids, psArgs);
  }

  containerStats(ref: string, opts: { stream: boolean; signal?: AbortSignal }): AsyncIterable<StatsSample> {
    const rec = this.containers.records.get(ref);
    return containerStats(rec, { ...opts, cgroups: this.#cgroups });
  }

  async statPath(ref: string, path: string): Promise<PathStat> {
    const { hostPath } = await this.#containerPath(ref, path, false);
    return statInRoot(hostPath, path);
  }

  async getArchive(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const { hostPath } = await this.#containerPath(ref, path, !path.endsWith('/.') && path.endsWith('/'));
    const st = await statInRoot(hostPath, path);
    return { stat: st, tar: packPath(hostPath) };
  }

  async putArchive(
    ref: string,
    path: string,
    tar: Readable,
    _opts?: { noOverwriteDirNonDir?: boolean },
  ): Promise<void> {
    const rec = this.containers.records.get(ref);
    if (rec.hostConfig.ReadonlyRootfs) throw new ConflictError('container rootfs is marked read-only');
    const { root, inRoot, hostPath } = await this.#containerPath(ref, path, true);
    const st = await stat(hostPath).catch(() => undefined);
    if (!st) throw new InvalidError(`Could not find the file ${path} in container ${rec.name}`);
    if (!st.isDirectory()) throw new InvalidError(`extraction point is not a directory`);
    await extractIntoRoot(root, inRoot, tar);
  }

  /** Maps a path in the container to the host: the mount whose destination contains it, else the rootfs. */
  async #containerPath(
    ref: string,
    path: string,
    followLast: boolean,
  ): Promise<{ root: string; inRoot: string; hostPath: string }> {
    const rec = this.containers.records.get(ref);
    const dir = this.containers.dir(rec);
    if (!path.startsWith('/')) path = `/${path}`;
    const mount = [...rec.mounts]
      .filter(
        (m) =>
          m.Type !== 'tmpfs' &&
          (path === m.Destination || path.startsWith(`${m.Destination.replace(/\/$/, '')}/`)),
      )
      .sort((a, b) => b.Destination.length - a.Destination.length)[0];
    let root: string;
    let inRoot = path;
    if (mount) {
      root = mount.Source;
      inRoot = path.slice(mount.Destination.length) || '/';
    } else {
      root = await this.images.prepareRootfs(rec.imageId, dir);
    }
    return { root, inRoot, hostPath: await resolveInRoot(root, inRoot, followLast) };
  }

  async containerChanges(ref: string): Promise<{ Path: string; Kind: 0 | 1 | 2 }[]> {
    const rec = await this.#withRootfs(ref);
    return (await this.images.diffRootfs(this.containers.dir(rec))) as { Path: string; Kind: 0 | 1 | 2 }[];
  }

  async exportContainer(ref: string): Promise<Readable> {
    const rec = await this.#withRootfs(ref);
    return this.images.exportRootfs(this.containers.dir(rec));
  }

  async commitContainer(
    ref: string,
    opts: {
      repo?: string;
      tag?: string;
      comment?: string;
      author?: string;
      changes?: string[];
      pause?: boolean;
      config?: ContainerConfig;
    },
  ): Promise<{ Id: string }> {
    const rec = await this.#withRootfs(ref);
    const pause = opts.pause !== false && rec.state.status === 'running';
    if (pause) await this.containers.pause(rec.id);
    try {
      const result = await this.images.commit(this.containers.dir(rec), {
        ...opts,
        config: opts.config ?? rec.config,
        containerId: rec.id,
        createdBy: [rec.path, ...rec.args].join(' '),
      });
      this.bus.publish('container', 'commit', rec.id, { name: rec.name, image: rec.imageRef });
      return result;
    } finally {
      if (pause) await this.containers.unpause(rec.id).catch(() => undefined);
    }
  }

  async pruneContainers(filters: Filters = {}): Promise<PruneReport> {
    const report: PruneReport = { deleted: [], spaceReclaimed: 0 };
    const matches = psFilter(pruneToPs(filters), () => true);
    for (const rec of this.containers.records.all()) {
      if (!['exited', 'created', 'dead'].includes(rec.state.status) || !matches(rec)) continue;
      if (!untilMatches(filters, Date.parse(rec.created))) continue;
      report.spaceReclaimed += await directorySize(join(this.containers.dir(rec), 'upper'));
      await this.removeContainer(rec.id, {});
      report.deleted.push(rec.id);
    }
    this.bus.publish('container', 'prune', '', { reclaimed: String(report.spaceReclaimed) });
    return report;
  }

  // ---------------------------------------------------------------- exec

  async createExec(ref: string, req: ExecCreateRequest): Promise<{ Id: string }> {
    const rec = this.containers.records.get(ref);
    const out = this.#execs.create(rec, req);
    this.bus.publish('container', `exec_create: ${req.Cmd.join(' ')}`, rec.id, {
      name: rec.name,
      image: rec.imageRef,
      execID: out.Id,
    });
    return out;
  }

  async startExec(execId: string, opts: { detach?: boolean; tty?: boolean }): Promise<StdioSession> {
    const e = this.#execs.get(execId);
    const rec = this.containers.records.get(e.containerId);
    const session = await this.#execs.start(rec, execId, opts);
    this.bus.publish('container', `exec_start: ${e.req.Cmd.join(' ')}`, rec.id, {
      name: rec.name,
      image: rec.imageRef,
      execID: execId,
    });
    session.exitCode?.then((code) =>
      this.bus.publish('container', 'exec_die', rec.id, {
        name: rec.name,
        image: rec.imageRef,
        execID: execId,
        exitCode: String(code),
      }),
    );
    return session;
  }

  resizeExec(execId: string, rows: number, cols: number): Promise<void> {
    return this.#execs.resize(execId, rows, cols);
  }

  async inspectExec(execId: string): Promise<ExecInspect> {
    return this.#execs.inspect(execId);
  }

  // ---------------------------------------------------------------- images

  listImages(opts?: { all?: boolean; filters?: Filters }): Promise<ImageSummary[]> {
    return this.images.list(opts);
  }
  inspectImage(ref: string): Promise<ImageInspect> {
    return this.images.inspect(ref);
  }
  async tagImage(ref: string, repo: string, tag?: string): Promise<void> {
    await this.images.tag(ref, repo, tag);
    this.bus.publish('image', 'tag', this.images.resolve(ref).id, { name: `${repo}:${tag || 'latest'}` });
  }
  async removeImage(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<ImageDeleteItem[]> {
    const items = await this.images.remove(ref, opts);
    for (const item of items) {
      if ('Untagged' in item) this.bus.publish('image', 'untag', item.Untagged, { name: item.Untagged });
      else this.bus.publish('image', 'delete', item.Deleted, { name: item.Deleted });
    }
    return items;
  }
  imageHistory(ref: string): Promise<ImageHistoryItem[]> {
    return this.images.history(ref);
  }
  saveImages(refs: string[]): Promise<Readable> {
    return this.images.save(refs);
  }
  async loadImages(tar: Readable, onProgress?: (m: ProgressMessage) => void): Promise<{ loaded: string[] }> {
    const result = await this.images.load(tar, onProgress);
    for (const name of result.loaded) this.bus.publish('image', 'load', name, { name });
    return result;
  }
  async importImage(
    tar: Readable,
    opts: {
      repo?: string;
      tag?: string;
      changes?: string[];
      message?: string;
      onProgress?: (m: ProgressMessage) => void;
    },
  ): Promise<{ Id: string }> {
    const result = await this.images.import(tar, opts);
    this.bus.publish('image', 'import', result.Id, { name: result.Id });
    return result;
  }
  pruneImages(filters?: Filters): Promise<PruneReport> {
    return this.images.prune(filters);
  }

  // ---------------------------------------------------------------- networks

  async createNetwork(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const out = await this.networks.create(req);
    this.bus.publish('network', 'create', out.Id, { name: req.Name, type: req.Driver || 'bridge' });
    return out;
  }
  listNetworks(filters?: Filters): Promise<NetworkInspect[]> {
    return this.networks.list(filters);
  }
  inspectNetwork(ref: string): Promise<NetworkInspect> {
    return this.networks.inspect(ref);
  }
  async removeNetwork(ref: string): Promise<void> {
    const n = await this.networks.inspect(ref);
    const users = this.containers.records
      .all()
      .filter((c) => n.Name in c.networks && c.state.status !== 'running');
    await this.networks.remove(ref);
    // Stopped containers forget a removed network, as Docker's do not block its removal.
    for (const c of users) {
      delete c.networks[n.Name];
      await this.containers.records.save(c);
    }
    this.bus.publish('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
  }
  async connectNetwork(ref: string, container: string, endpoint: EndpointSettings = {}): Promise<void> {
    const n = await this.networks.inspect(ref);
    const rec = this.containers.records.get(container);
    if (n.Name in rec.networks && rec.state.status !== 'running') {
      throw new ConflictError(`endpoint with name ${rec.name} already exists in network ${n.Name}`);
    }
    if (rec.state.status === 'running') {
      const ep = await this.networks.connect(rec.id, n.Name, {
        name: rec.name,
        aliases: [...(endpoint.Aliases ?? []), rec.id.slice(0, 12)],
        ipv4Address: endpoint.IPAMConfig?.IPv4Address || undefined,
      });
      rec.networks[n.Name] = { ...endpoint, ...ep };
    } else {
      rec.networks[n.Name] = { ...endpoint, NetworkID: n.Id };
    }
    await this.containers.records.save(rec);
    this.bus.publish('network', 'connect', n.Id, { name: n.Name, type: n.Driver, container: rec.id });
  }
  async disconnectNetwork(ref: string, container: string, _force?: boolean): Promise<void> {
    const n = await this.networks.inspect(ref);
    const rec = this.containers.records.get(container);
    if (!(n.Name in rec.networks)) {
      throw new ConflictError(`container ${rec.id} is not connected to network ${n.Name}`);
    }
    if (rec.state.status === 'running') await this.networks.disconnect(rec.id, n.Name);
    delete rec.networks[n.Name];
    await this.containers.records.save(rec);
    this.bus.publish('network', 'disconnect', n.Id, { name: n.Name, type: n.Driver, container: rec.id });
  }
  pruneNetworks(filters?: Filters): Promise<PruneReport> {
    return this.networks.prune(filters);
  }

  // ---------------------------------------------------------------- volumes

  async createVolume(req: VolumeCreateRequest): Promise<VolumeInspect> {
    const v = await this.volumes.create(req);
    this.bus.publish('volume', 'create', v.Name, { driver: 'local' });
    return v;
  }
  listVolumes(filters?: Filters): Promise<VolumeInspect[]> {
    return this.volumes.list(filters);
  }
  inspectVolume(name: string): Promise<VolumeInspect> {
    return this.volumes.inspect(name);
  }
  async removeVolume(name: string, opts?: { force?: boolean }): Promise<void> {
    await this.volumes.remove(name, opts);
    this.bus.publish('volume', 'destroy', name, { driver: 'local' });
  }
  pruneVolumes(filters?: Filters): Promise<PruneReport> {
    return this.volumes.prune(filters);
  }

  // ---------------------------------------------------------------- helpers

  /** A container whose writable layer exists (a created, never started one gets it now, as Docker's has). */
  async #withRootfs(ref: string): Promise<ContainerRecord> {
    const rec = this.containers.records.get(ref);
    await this.images.prepareRootfs(rec.imageId, this.containers.dir(rec));
    return rec;
  }

  #running(ref: string): ContainerRecord {
    const rec = this.containers.records.get(ref);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new ConflictError(`Container ${rec.id} is not running`);
    }
    return rec;
  }

  #volumeUsers(name: string): string[] {
    return this.containers.records
      .all()
      .filter((c) => c.mounts.some((m) => m.Name === name))
      .map((c) => c.id);
  }

  #imageMatches(rec: ContainerRecord, ref: string): boolean {
    if (rec.imageRef === ref || rec.imageId === ref || rec.imageId.startsWith(`sha256:${ref}`)) return true;
    try {
      return this.images.resolve(ref).id === rec.imageId;
    } catch {
      return false;
    }
  }

  #imageSize(imageId: string): number | undefined {
    const record = this.images.meta.get(imageId);
    return record ? imageSize(record) : undefined;
  }
}

/**
 * The rotated files (oldest first), then the live one. `tail` counts in the
 * live file only: after a rotation it may return fewer lines than asked.
 */
async function* logsAcrossRotation(
  live: string,
  rotated: Promise<string[]>,
  opts: Parameters<typeof readLogs>[1],
): AsyncGenerator<LogEntry> {
  if (opts.tail === undefined || opts.tail === 'all') {
    for (const file of await rotated) yield* readLogs(file, { ...opts, follow: false });
  }
  yield* readLogs(live, opts);
}

/** `container prune` takes `label` and `until`; ps filters know label. */
function pruneToPs(filters: Filters): Filters {
  return filters.label ? { label: filters.label } : {};
}

function untilMatches(filters: Filters, createdMs: number): boolean {
  const until = filters.until?.[0];
  if (!until) return true;
  const t = /^\d+(\.\d+)?$/.test(until) ? Number(until) * 1000 : Date.parse(until);
  return Number.isNaN(t) || createdMs < t;
}

export { normalizeSignal };

async function claimDataDir(pidFile: string): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (pid > 0 && pid !== process.pid && isAlive(pid)) {
    throw new UnavailableError(
      `another engine (pid ${pid}) is using ${dirname(pidFile)}: stop it first, or give this one its own --data-dir`,
    );
  }
  await writeFile(pidFile, `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function findInit(): Promise<string | undefined> {
  for (const p of [
    '/usr/bin/catatonit',
    '/usr/libexec/podman/catatonit',
    '/usr/bin/tini-static',
    '/usr/bin/tini',
  ]) {
    if (
      await stat(p).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return undefined;
}
