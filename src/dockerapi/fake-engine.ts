/**
 * Test support: an in-memory EngineApi whose containers run FakeProcess
 * scripts (see fake-process.ts) instead of real processes. It keeps the
 * contracts dockerapi relies on (output replayed to logs, attach before start
 * sees everything, sessions end when the process ends, iterators end on abort)
 * so the HTTP layer can be tested against the real docker CLI in milliseconds.
 */
import { PassThrough, Readable } from 'node:stream';
import type {
  EngineApi,
  ExecCreateRequest,
  ExecInspect,
  LogEntry,
  LogOptions,
  PathStat,
  StatsSample,
  StdioSession,
} from '../engine/types.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { type FakeContainer, FakeContainers, zeroTime } from './fake-containers.ts';
import { hex64, nowRfc3339 } from './fake-objects.ts';
import { Channel, FakeProcess, type OutputChunk } from './fake-process.ts';

interface FakeExec {
  id: string;
  container: FakeContainer;
  req: ExecCreateRequest;
  exitCode: number | null;
  running: boolean;
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

/** Like a runtime's exec start; see FakeProcess. */
const EXEC_START_MS = 15;

export class FakeEngine extends FakeContainers implements EngineApi {
  private readonly execs = new Map<string, FakeExec>();
  /** Every resize request, for tests: container or exec id, rows, cols. */
  readonly resizes: { id: string; rows: number; cols: number }[] = [];

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
    const proc = new FakeProcess(e.req.Cmd, tty, EXEC_START_MS);
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
}
