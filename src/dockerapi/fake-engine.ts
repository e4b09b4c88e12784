/**
 * Test support: an in-memory EngineApi whose containers run FakeProcess
 * scripts (see fake-process.ts) instead of real processes. It keeps the
 * contracts dockerapi relies on (output replayed to logs, attach before start
 * sees everything, sessions end when the process ends, iterators end on abort)
 * so the HTTP layer can be tested against the real docker CLI in milliseconds.
 */
import { PassThrough, Readable } from 'node:stream';
import type {
  ContainerCreateRequest,
  ContainerInspect,
  ContainerSummary,
  EngineApi,
  ExecCreateRequest,
  ExecInspect,
  Filters,
  LogEntry,
  LogOptions,
  PathStat,
  PruneReport,
  StatsSample,
  StdioSession,
} from '../engine/types.ts';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { FakeObjects, hex64, nowRfc3339 } from './fake-objects.ts';
import { Channel, FakeProcess, type OutputChunk } from './fake-process.ts';

const zeroTime = '0001-01-01T00:00:00Z';

interface FakeContainer {
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

interface FakeExec {
  id: string;
  container: FakeContainer;
  req: ExecCreateRequest;
  exitCode: number | null;
  running: boolean;
}

function deferred(): FakeContainer['exit'] {
  let resolve!: (code: number) => void;
  const promise = new Promise<number>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function session(proc: FakeProcess, tty: boolean, stdin: boolean, onEnd: Promise<unknown>): StdioSession {
  const out = new Channel<OutputChunk>();
  const listener = (c: OutputChunk) => out.push(c);
  proc.on('output', listener);
  const close = () => {
    proc.off('output', listener);
    out.end();
  };
  void onEnd.then(close);
  let input: PassThrough | null = null;
  if (stdin) {
    input = new PassThrough();
    input.pipe(proc.stdin);
  }
  return { tty, output: out, stdin: input, resize: async () => {}, close };
}

export class FakeEngine extends FakeObjects implements EngineApi {
  private readonly containers = new Map<string, FakeContainer>();
  private readonly execs = new Map<string, FakeExec>();
  /** Every resize request, for tests: container or exec id, rows, cols. */
  readonly resizes: { id: string; rows: number; cols: number }[] = [];
  private seq = 0;

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

  private find(ref: string): FakeContainer {
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

  private attrs(c: FakeContainer, extra: Record<string, string> = {}) {
    return { ...c.req.config.Labels, image: c.req.config.Image ?? '', name: c.name, ...extra };
  }

  private command(c: FakeContainer): string[] {
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

  async *containerLogs(ref: string, opts: LogOptions): AsyncIterable<LogEntry> {
    const c = this.find(ref);
    const wanted = (e: LogEntry) => (e.stream === 'stdout' ? opts.stdout !== false : opts.stderr !== false);
    let past = c.logs.filter(wanted);
    if (typeof opts.tail === 'number') past = opts.tail === 0 ? [] : past.slice(-opts.tail);
    yield* past;
    if (!opts.follow || !c.proc) return;
    const live = new Channel<LogEntry>();
    const proc = c.proc;
    const onOut = (o: OutputChunk) => live.push({ stream: o.stream, time: nowRfc3339(), data: o.data });
    proc.on('output', onOut);
    void proc.exited.then(() => live.end());
    opts.signal?.addEventListener('abort', () => live.end());
    try {
      for await (const e of live) if (wanted(e)) yield e;
    } finally {
      proc.off('output', onOut);
    }
  }

  async attachContainer(ref: string, opts: { stdin?: boolean }) {
    const c = this.find(ref);
    const tty = c.req.config.Tty === true;
    if (c.proc) return session(c.proc, tty, opts.stdin === true, c.exit.promise);
    if (c.status === 'exited')
      throw new ConflictError('You cannot attach to a stopped container, start it first');
    // Attached before start: bind to the process the moment it starts, so no output is lost.
    const out = new Channel<OutputChunk>();
    const stdin = opts.stdin ? new PassThrough() : null;
    let inner: StdioSession | null = null;
    const bind = (proc: FakeProcess) => {
      inner = session(proc, tty, false, c.exit.promise);
      if (stdin) stdin.pipe(proc.stdin);
      void (async () => {
        for await (const o of inner.output) out.push(o);
        out.end();
      })();
    };
    c.onStart.add(bind);
    return {
      tty,
      output: out,
      stdin,
      resize: async () => {},
      close: () => {
        c.onStart.delete(bind);
        inner?.close();
        out.end();
      },
    } satisfies StdioSession;
  }
  async resizeContainer(ref: string, rows: number, cols: number) {
    this.resizes.push({ id: this.find(ref).id, rows, cols });
  }
  async topContainer(ref: string) {
    const c = this.find(ref);
    if (!c.proc) throw new ConflictError(`container ${c.id} is not running`);
    return { Titles: ['PID', 'CMD'], Processes: [['4242', this.command(c).join(' ')]] };
  }
  async *containerStats(
    ref: string,
    opts: { stream: boolean; signal?: AbortSignal },
  ): AsyncIterable<StatsSample> {
    const c = this.find(ref);
    let n = 0;
    while (!opts.signal?.aborted) {
      const cpu = { cpu_usage: { total_usage: n * 1e7, usage_in_kernelmode: 0, usage_in_usermode: 0 } };
      const throttling_data = { periods: 0, throttled_periods: 0, throttled_time: 0 };
      yield {
        read: nowRfc3339(),
        preread: nowRfc3339(),
        pids_stats: { current: 1 },
        cpu_stats: { ...cpu, system_cpu_usage: n * 1e9, online_cpus: 2, throttling_data },
        precpu_stats: {
          cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
          throttling_data,
        },
        memory_stats: { usage: 4096, limit: 1 << 30, stats: {} },
        blkio_stats: { io_service_bytes_recursive: [] },
        networks: {},
        name: `/${c.name}`,
        id: c.id,
        num_procs: 0,
        storage_stats: {},
      };
      if (!opts.stream) return;
      n++;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async statPath(ref: string, path: string): Promise<PathStat> {
    const c = this.find(ref);
    path = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const f = c.files.get(path);
    const isDir = !f && [...c.files.keys()].some((k) => k.startsWith(path.endsWith('/') ? path : `${path}/`));
    if (!f && !isDir && path !== '/')
      throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
    const name = path.split('/').filter(Boolean).at(-1) ?? '/';
    return {
      name,
      size: f?.length ?? 4096,
      // Go's os.FileMode dir bit is bit 31: add, since `|` in JS yields a negative int32.
      mode: f ? 0o644 : 0x80000000 + 0o755,
      mtime: zeroTime,
      linkTarget: '',
    };
  }
  async getArchive(ref: string, path: string) {
    const stat = await this.statPath(ref, path);
    return { stat, tar: Readable.from([this.find(ref).files.get(path) ?? Buffer.alloc(0)]) };
  }
  async putArchive(ref: string, path: string, tar: Readable) {
    const c = this.find(ref);
    const chunks: Buffer[] = [];
    for await (const ch of tar) chunks.push(ch as Buffer);
    c.files.set(`${path.replace(/\/$/, '')}/uploaded.tar`, Buffer.concat(chunks));
  }
  async containerChanges(ref: string) {
    this.find(ref);
    return [{ Path: '/tmp', Kind: 0 as const }];
  }
  async exportContainer(ref: string) {
    return Readable.from([Buffer.from(`rootfs-of-${this.find(ref).id}`)]);
  }
  async commitContainer(ref: string) {
    return { Id: `sha256:${hex64(this.find(ref).id)}` };
  }
  async pruneContainers(): Promise<PruneReport> {
    const deleted = [...this.containers.values()].filter((c) => c.status === 'exited').map((c) => c.id);
    for (const id of deleted) this.containers.delete(id);
    return { deleted, spaceReclaimed: 0 };
  }

  async createExec(ref: string, req: ExecCreateRequest) {
    const c = this.find(ref);
    if (!c.proc) throw new ConflictError(`Container ${c.id} is not running`);
    const id = hex64(`exec-${++this.seq}`);
    this.execs.set(id, { id, container: c, req, exitCode: null, running: false });
    return { Id: id };
  }
  private findExec(id: string): FakeExec {
    const e = this.execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }
  async startExec(execId: string, opts: { detach?: boolean; tty?: boolean }) {
    const e = this.findExec(execId);
    const tty = opts.tty ?? e.req.Tty === true;
    const proc = new FakeProcess(e.req.Cmd, tty);
    e.running = true;
    const done = proc.exited.then((code) => {
      e.running = false;
      e.exitCode = code;
      return code;
    });
    e.container.exit.promise.then(() => proc.kill());
    const s = session(proc, tty, e.req.AttachStdin === true && !opts.detach, done);
    if (!e.req.AttachStdin) proc.stdin.end();
    return { ...s, exitCode: done };
  }
  async resizeExec(execId: string, rows: number, cols: number) {
    this.resizes.push({ id: this.findExec(execId).id, rows, cols });
  }
  async inspectExec(execId: string): Promise<ExecInspect> {
    const e = this.findExec(execId);
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        tty: e.req.Tty === true,
        entrypoint: e.req.Cmd[0] ?? '',
        arguments: e.req.Cmd.slice(1),
        privileged: false,
        user: e.req.User ?? '',
      },
      OpenStdin: e.req.AttachStdin === true,
      OpenStderr: e.req.AttachStderr === true,
      OpenStdout: e.req.AttachStdout === true,
      ContainerID: e.container.id,
      Pid: 4343,
      CanRemove: false,
      DetachKeys: '',
    };
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
