/**
 * Test support: the container half of the fake engine (create, lifecycle,
 * wait, list, inspect); fake-engine.ts adds stdio, logs, stats, archives and
 * exec. Containers run FakeProcess scripts, not processes.
 */
import type {
  ContainerCreateRequest,
  ContainerInspect,
  ContainerSummary,
  Filters,
  LogEntry,
  PruneReport,
} from '../engine/types.ts';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { FakeObjects, hex64, nowRfc3339 } from './fake-objects.ts';
import { FakeProcess, type OutputChunk } from './fake-process.ts';

export const zeroTime = '0001-01-01T00:00:00Z';

export interface FakeContainer {
  id: string;
  name: string;
  req: ContainerCreateRequest;
  created: Date;
  status: 'created' | 'running' | 'paused' | 'exited';
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  logs: LogEntry[];
  proc: FakeProcess | null;
  files: Map<string, Buffer>;
  /** Called with the process when the container starts (attach before start). */
  onStart: Set<(proc: FakeProcess) => void>;
  /** Waiters for condition=removed. */
  onRemove: Set<(code: number) => void>;
  /** Resolved at the next exit; replaced by a fresh one then. */
  exit: { promise: Promise<number>; resolve: (code: number) => void };
}

function deferred(): FakeContainer['exit'] {
  let resolve!: (code: number) => void;
  const promise = new Promise<number>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class FakeContainers extends FakeObjects {
  protected readonly containers = new Map<string, FakeContainer>();
  protected seq = 0;

  async info() {
    return {
      ID: 'fake',
      Containers: this.containers.size,
      Images: this.images.size,
      ServerVersion: '0.1.0-fake',
      OSType: 'linux',
      Architecture: 'x86_64',
      NCPU: 2,
      MemTotal: 1 << 30,
      Name: 'fake-engine',
      Driver: 'overlay2',
      Swarm: { LocalNodeState: 'inactive' },
    };
  }
  async version() {
    return { Version: '0.1.0-fake', Os: 'linux', Arch: 'amd64', GoVersion: 'n/a', GitCommit: 'fake' };
  }
  async diskUsage() {
    return { LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: null };
  }

  protected find(ref: string): FakeContainer {
    const key = ref.replace(/^\//, '');
    const byName = [...this.containers.values()].find((c) => c.name === key);
    if (byName) return byName;
    const hits = [...this.containers.values()].filter((c) => c.id.startsWith(key));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new InvalidError(`multiple IDs found with provided prefix: ${key}`);
    throw new NotFoundError(`no such container: ${ref}`);
  }

  async createContainer(req: ContainerCreateRequest) {
    this.findImage(req.config.Image ?? '');
    const id = hex64(`container-${++this.seq}-${Date.now()}`);
    const name = req.name ?? `fake_${this.seq}`;
    const taken = [...this.containers.values()].find((c) => c.name === name);
    if (taken) {
      throw new AlreadyExistsError(
        `Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    const c: FakeContainer = {
      id,
      name,
      req,
      created: new Date(),
      status: 'created',
      exitCode: 0,
      startedAt: zeroTime,
      finishedAt: zeroTime,
      logs: [],
      proc: null,
      files: new Map([
        ['/etc/hostname', Buffer.from(`${id.slice(0, 12)}\n`)],
        ['/tmp/.keep', Buffer.alloc(0)],
      ]),
      exit: deferred(),
      onStart: new Set(),
      onRemove: new Set(),
    };
    this.containers.set(id, c);
    this.emitEvent('container', 'create', id, this.attrs(c));
    return { Id: id, Warnings: [] };
  }

  protected attrs(c: FakeContainer, extra: Record<string, string> = {}) {
    return { ...c.req.config.Labels, image: c.req.config.Image ?? '', name: c.name, ...extra };
  }

  protected command(c: FakeContainer): string[] {
    return [...(c.req.config.Entrypoint ?? []), ...(c.req.config.Cmd ?? ['sh'])];
  }

  async startContainer(ref: string) {
    const c = this.find(ref);
    if (c.status === 'running' || c.status === 'paused')
      throw new ConflictError(`container ${c.id} is already running`);
    const cmd = this.command(c);
    if (cmd[0]?.startsWith('/nonexist')) {
      // Like dockerd: a failed start of an AutoRemove container removes it (the CLI waits for that).
      c.exitCode = 127;
      if (c.req.hostConfig?.AutoRemove) this.destroy(c, 127);
      throw new InvalidError(
        `failed to create shim task: OCI runtime create failed: exec: "${cmd[0]}": stat ${cmd[0]}: no such file or directory: unknown`,
      );
    }
    const proc = new FakeProcess(cmd, c.req.config.Tty === true);
    c.proc = proc;
    c.status = 'running';
    c.startedAt = nowRfc3339();
    proc.on('output', (o: OutputChunk) =>
      c.logs.push({ stream: o.stream, time: nowRfc3339(), data: o.data }),
    );
    for (const bind of c.onStart) bind(proc);
    c.onStart.clear();
    this.emitEvent('container', 'start', c.id, this.attrs(c));
    void proc.exited.then((code) => {
      c.status = 'exited';
      c.exitCode = code;
      c.finishedAt = nowRfc3339();
      c.proc = null;
      this.emitEvent('container', 'die', c.id, this.attrs(c, { exitCode: String(code) }));
      const exit = c.exit;
      c.exit = deferred();
      exit.resolve(code);
      if (c.req.hostConfig?.AutoRemove) this.destroy(c, code);
    });
  }
  async stopContainer(ref: string, opts?: { signal?: string }) {
    const c = this.find(ref);
    if (!c.proc) throw new ConflictError(`container ${c.id} is not running`);
    c.proc.kill(opts?.signal ?? 'TERM');
    await c.exit.promise;
  }
  async killContainer(ref: string, signal?: string) {
    const c = this.find(ref);
    if (!c.proc) throw new ConflictError(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    this.emitEvent('container', 'kill', c.id, this.attrs(c, { signal: signal ?? 'SIGKILL' }));
    c.proc.kill(signal ?? 'KILL');
    await c.exit.promise;
  }
  async restartContainer(ref: string) {
    const c = this.find(ref);
    if (c.proc) await this.stopContainer(ref);
    await this.startContainer(c.id);
  }
  async pauseContainer(ref: string) {
    const c = this.find(ref);
    if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
    c.status = 'paused';
  }
  async unpauseContainer(ref: string) {
    const c = this.find(ref);
    if (c.status !== 'paused') throw new ConflictError(`container ${c.id} is not paused`);
    c.status = 'running';
  }
  async removeContainer(ref: string, opts?: { force?: boolean }) {
    const c = this.find(ref);
    if (c.proc && !opts?.force) {
      throw new ConflictError(
        `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
      );
    }
    c.proc?.kill();
    this.destroy(c, c.exitCode);
  }

  private destroy(c: FakeContainer, code: number): void {
    this.containers.delete(c.id);
    this.emitEvent('container', 'destroy', c.id, this.attrs(c));
    for (const w of c.onRemove) w(code);
    c.onRemove.clear();
  }
  async renameContainer(ref: string, newName: string) {
    this.find(ref).name = newName;
  }
  async waitContainer(ref: string, condition?: string, signal?: AbortSignal) {
    const c = this.find(ref);
    if (condition === 'not-running' || condition === undefined) {
      if (!c.proc) return { StatusCode: c.exitCode };
    }
    let stop = () => {};
    const done = new Promise<number>((resolve, reject) => {
      const onAbort = () => reject(new Error('context canceled'));
      signal?.addEventListener('abort', onAbort);
      if (condition === 'removed') c.onRemove.add(resolve);
      else void c.exit.promise.then(resolve);
      stop = () => {
        signal?.removeEventListener('abort', onAbort);
        c.onRemove.delete(resolve);
      };
    });
    try {
      return { StatusCode: await done };
    } finally {
      stop();
    }
  }

  private summary(c: FakeContainer): ContainerSummary {
    const status =
      c.status === 'running'
        ? 'Up 1 second'
        : c.status === 'exited'
          ? `Exited (${c.exitCode}) 1 second ago`
          : 'Created';
    return {
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.req.config.Image ?? '',
      ImageID: this.findImage(c.req.config.Image ?? 'busybox').id,
      Command: this.command(c).join(' '),
      Created: Math.floor(c.created.getTime() / 1000),
      Ports: [],
      Labels: c.req.config.Labels ?? {},
      State: c.status,
      Status: c.status === 'paused' ? 'Up 1 second (Paused)' : status,
      HostConfig: { NetworkMode: c.req.hostConfig?.NetworkMode ?? 'default' },
      NetworkSettings: { Networks: {} },
      Mounts: [],
    };
  }
  async listContainers(opts?: { all?: boolean; limit?: number; filters?: Filters }) {
    const f = opts?.filters ?? {};
    let items = [...this.containers.values()]
      .reverse()
      .filter((c) => opts?.all || opts?.limit || f.status || c.status === 'running' || c.status === 'paused')
      .filter((c) => !f.status || f.status.includes(c.status))
      .filter((c) => !f.name || f.name.some((n) => c.name.includes(n.replace(/^\//, ''))))
      .filter((c) => !f.id || f.id.some((i) => c.id.startsWith(i)))
      .filter((c) =>
        (f.label ?? []).every((l) => {
          const [k, v] = l.split('=', 2) as [string, string | undefined];
          const have = c.req.config.Labels?.[k];
          return have !== undefined && (v === undefined || have === v);
        }),
      )
      .map((c) => this.summary(c));
    if (opts?.limit) items = items.slice(0, opts.limit);
    return items;
  }
  async inspectContainer(ref: string): Promise<ContainerInspect> {
    const c = this.find(ref);
    const cmd = this.command(c);
    return {
      Id: c.id,
      Created: c.created.toISOString(),
      Path: cmd[0] ?? '',
      Args: cmd.slice(1),
      State: {
        Status: c.status,
        Running: c.status === 'running' || c.status === 'paused',
        Paused: c.status === 'paused',
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: c.proc ? 4242 : 0,
        ExitCode: c.exitCode,
        Error: '',
        StartedAt: c.startedAt,
        FinishedAt: c.finishedAt,
      },
      Image: this.findImage(c.req.config.Image ?? 'busybox').id,
      ResolvConfPath: '',
      HostnamePath: '',
      HostsPath: '',
      LogPath: '',
      Name: `/${c.name}`,
      RestartCount: 0,
      Driver: 'overlay2',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      HostConfig: {
        NetworkMode: 'default',
        ...c.req.hostConfig,
        LogConfig: { Type: 'json-file', Config: {} },
      },
      GraphDriver: { Name: 'overlay2', Data: {} },
      Mounts: [],
      Config: { Hostname: c.id.slice(0, 12), ...c.req.config, Cmd: c.req.config.Cmd ?? ['sh'] },
      NetworkSettings: {
        Bridge: '',
        SandboxID: '',
        SandboxKey: '',
        Ports: {},
        Gateway: '',
        IPAddress: '',
        IPPrefixLen: 0,
        MacAddress: '',
        Networks: {},
      },
    };
  }

  async pruneContainers(): Promise<PruneReport> {
    const deleted = [...this.containers.values()].filter((c) => c.status === 'exited').map((c) => c.id);
    for (const id of deleted) this.containers.delete(id);
    return { deleted, spaceReclaimed: 0 };
  }

  async connectNetwork(ref: string, container: string) {
    this.findNetwork(ref);
    this.find(container);
  }
  async disconnectNetwork(ref: string, container: string) {
    this.findNetwork(ref);
    this.find(container);
  }
}
