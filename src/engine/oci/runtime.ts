/**
 * Runtime: the thin layer over conmon + an OCI runtime (crun, or runc). It runs
 * bundles and answers questions about them; it keeps no state in memory that a
 * restarted daemon would need (everything lives under `stateRoot` and the
 * runtime's own root), so a new Runtime over the same stateRoot re-adopts
 * every container. State machines, names, restart policies live above it.
 *
 * Layout under stateRoot (e.g. /run/drover/oci):
 *   <runtime name>/          the runtime's --root (crun/runc state per container)
 *   containers/<id>/         persist dir: pidfile, conmon.pid, oci-log, conmon's `exit`/`oom` files
 *   exits/<id>               exit code written by conmon (default exit dir)
 *   sockets/<id> -> bundle   conmon's link; attach socket is <bundle>/attach, ctl/winsz fifos <bundle>/ctl, /winsz
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { ConflictError, InvalidError, NotFoundError, UnavailableError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { type CgroupLayout, detectCgroups } from './cgroups.ts';
import { spawnConmon } from './conmon.ts';
import { crunFastDelete, crunFastStart } from './crun-fast-path.ts';
import { type ExecHandle, type ExecOptions, startExec } from './exec.ts';
import { ExitWatcher } from './exit-watcher.ts';
import { runtimeError } from './runtime-error.ts';
import { type AttachHandle, attachSocket, execTty, type TerminalHandle } from './terminal.ts';

export interface RuntimeOptions {
  /** `crun`, `runc`, or a path to either. */
  runtime: string;
  /** Path or name of conmon (default `conmon`). */
  conmon?: string;
  stateRoot: string;
  log: Logger;
  /**
   * crun only, default true: `start` writes crun's exec fifo itself instead of
   * spawning `crun start`, and `delete` of an exited container removes its
   * cgroup and state itself (see crun-fast-path.ts). Turn off for configs
   * with poststart hooks.
   */
  fastPaths?: boolean;
}

export interface CreateOptions {
  id: string;
  /** Directory holding config.json (and usually the rootfs). */
  bundleDir: string;
  /** conmon's log in CRI format: `<RFC3339Nano> <stdout|stderr> <F|P> <text>` per line. */
  logPath: string;
  /** conmon truncates the log when it grows past this many bytes (it does not rotate). */
  logMaxSize?: number;
  /** Where conmon writes `<exitDir>/<id>`; default `<stateRoot>/exits`. Waiting works on the default only. */
  exitDir?: string;
  /** Default `<stateRoot>/containers/<id>`. */
  persistDir?: string;
  terminal?: boolean;
  /** Keep a stdin pipe open (fed through the attach socket). */
  stdin?: boolean;
  /** With stdin: close it when the first attached client goes (docker run -i). */
  stdinOnce?: boolean;
  /** Program + args conmon runs after the container exited (e.g. a cleanup hook). */
  exitCommand?: string[];
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerState {
  id: string;
  status: ContainerStatus;
  /** 0 once stopped. */
  pid: number;
  bundle: string;
  created?: string;
}

export interface ExitInfo {
  exitCode: number;
  /** conmon saw the cgroup's OOM killer act on the container. */
  oomKilled: boolean;
  exitedAt: Date;
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function resolveBinary(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin')
    .split(delimiter)
    .concat('/usr/sbin', '/sbin')) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new UnavailableError(`finding ${name}: not installed (install the Debian package "${name}")`);
}

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Runtime {
  readonly runtimePath: string;
  readonly conmonPath: string;
  readonly stateRoot: string;
  /** The runtime's --root. */
  readonly runtimeRoot: string;
  readonly exitDir: string;
  readonly socketDir: string;
  readonly #log: Logger;
  readonly #exits: ExitWatcher;
  readonly #fastPaths: boolean;
  #layout: Promise<CgroupLayout> | undefined;

  constructor(opts: RuntimeOptions) {
    this.runtimePath = resolveBinary(opts.runtime);
    this.conmonPath = resolveBinary(opts.conmon ?? 'conmon');
    this.stateRoot = opts.stateRoot;
    this.runtimeRoot = join(opts.stateRoot, basename(this.runtimePath));
    this.exitDir = join(opts.stateRoot, 'exits');
    this.socketDir = join(opts.stateRoot, 'sockets');
    this.#log = opts.log;
    this.#exits = new ExitWatcher(this.exitDir);
    this.#fastPaths = (opts.fastPaths ?? true) && basename(this.runtimePath) === 'crun';
  }

  /** The persist dir of a container (pidfile, conmon.pid, oci-log, conmon's exit/oom files). */
  containerDir(id: string): string {
    return join(this.stateRoot, 'containers', id);
  }

  /** conmon's attach socket (SOCK_SEQPACKET) for a container created with this bundle. */
  attachSocketPath(id: string): string {
    return join(this.socketDir, id, 'attach');
  }

  /**
   * Creates the container through conmon and returns once the runtime has it in
   * `created` state. Fails with StartError when the command cannot be found
   * (exitCode 127) or executed (126), ConflictError when the runtime already has
   * the id, UnavailableError otherwise. Nothing is left behind on failure.
   */
  async create(opts: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    checkId(opts.id);
    // Checked first: the failure cleanup below must never touch a live container's files.
    if (
      await stat(join(this.runtimeRoot, opts.id)).then(
        () => true,
        () => false,
      )
    ) {
      throw new ConflictError(
        `creating container ${opts.id}: the runtime already has a container with this id`,
      );
    }
    const persistDir = opts.persistDir ?? this.containerDir(opts.id);
    const exitDir = opts.exitDir ?? this.exitDir;
    await Promise.all([
      mkdir(persistDir, { recursive: true }),
      mkdir(exitDir, { recursive: true }),
      mkdir(this.socketDir, { recursive: true }),
    ]);
    await rm(join(exitDir, opts.id), { force: true });
    try {
      const res = await spawnConmon(
        {
          conmon: this.conmonPath,
          runtime: this.runtimePath,
          runtimeArgs: [`--root=${this.runtimeRoot}`],
          id: opts.id,
          bundleDir: opts.bundleDir,
          persistDir,
          exitDir,
          socketDir: this.socketDir,
          logPath: opts.logPath,
          logMaxSize: opts.logMaxSize,
          terminal: !!opts.terminal,
          stdin: !!opts.stdin,
          stdinOnce: !!opts.stdinOnce,
          exitCommand: opts.exitCommand,
        },
        async () => Number((await readFile(join(persistDir, 'conmon.pid'), 'utf8')).trim()),
      );
      this.#log.debug({ container: opts.id, ...res }, 'container created');
      return res;
    } catch (err) {
      await this.#cleanupFiles(opts.id, persistDir, exitDir);
      throw err;
    }
  }

  /** Starts a created container. */
  async start(id: string): Promise<void> {
    checkId(id);
    if (this.#fastPaths && (await crunFastStart(this.runtimeRoot, id))) return;
    await this.#must(['start', id], `starting container ${id}`);
  }

  /** Sends a signal (`SIGTERM`, `TERM`, `9` ...) to the container's init, or to all its processes. */
  async kill(id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    const sig =
      typeof signal === 'number' ? String(signal) : signal.toUpperCase().replace(/^(?!SIG)(?=\D)/, 'SIG');
    await this.#must(['kill', ...(opts.all ? ['--all'] : []), id, sig], `killing container ${id}`);
  }

  /**
   * Deletes the runtime's state and the container's cgroup, and removes our
   * files for it (persist dir, exit file, socket link): read exitInfo() first.
   * `force` kills a running container first and ignores an unknown id.
   */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    checkId(id);
    // crun and runc both keep a container's state in <root>/<id>: without it there is nothing to
    // delete, and no runtime process needs to say so (create paths call delete --force first).
    if (
      !(await stat(join(this.runtimeRoot, id)).then(
        () => true,
        () => false,
      ))
    ) {
      if (!opts.force) throw new NotFoundError(`deleting container ${id}: no such container`);
      await this.#cleanupFiles(id, this.containerDir(id), this.exitDir);
      return;
    }
    if (this.#fastPaths && (await this.#fastDelete(id))) {
      await this.#cleanupFiles(id, this.containerDir(id), this.exitDir);
      return;
    }
    // A forced delete kills the container; its conmon then writes the exit file. Wait for that
    // (bounded) so that no exit file appears after our cleanup.
    const conmonAlive = opts.force ? await this.#conmonAlive(id) : false;
    const exited = conmonAlive
      ? this.#exits.wait(id, AbortSignal.timeout(5000)).catch(() => undefined)
      : undefined;
    const r = await this.#run(['delete', ...(opts.force ? ['--force'] : []), id]);
    if (r.code !== 0) {
      const err = runtimeError(`deleting container ${id}`, r.stderr);
      if (!(opts.force && err instanceof NotFoundError)) throw err;
    }
    await exited;
    await this.#cleanupFiles(id, this.containerDir(id), this.exitDir);
  }

  /** The runtime's view of a container, or undefined when it does not know the id. */
  async state(id: string): Promise<ContainerState | undefined> {
    checkId(id);
    const r = await this.#run(['state', id]);
    if (r.code !== 0) {
      const err = runtimeError(`reading state of container ${id}`, r.stderr);
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    return toState(JSON.parse(r.stdout) as RawState);
  }

  /** Every container the runtime knows under our root. */
  async list(): Promise<ContainerState[]> {
    // crun fails on a root it has never written; nothing was ever created then.
    if (
      !(await stat(this.runtimeRoot).then(
        () => true,
        () => false,
      ))
    )
      return [];
    const r = await this.#must(['list', '--format', 'json'], 'listing containers');
    const raw = (JSON.parse(r.stdout.trim() || '[]') as RawState[] | null) ?? [];
    return raw.map(toState);
  }

  /** Freezes every process of the container (cgroup freezer). */
  async pause(id: string): Promise<void> {
    await this.#must(['pause', id], `pausing container ${id}`);
  }

  async resume(id: string): Promise<void> {
    await this.#must(['resume', id], `resuming container ${id}`);
  }

  /** Runs a process inside a running container (`<runtime> exec --process`); see exec.ts. */
  exec(id: string, opts: ExecOptions): Promise<ExecHandle> {
    checkId(id);
    return startExec({
      runtime: this.runtimePath,
      globalArgs: [`--root=${this.runtimeRoot}`],
      id,
      dir: this.containerDir(id),
      ...opts,
    });
  }

  /**
   * Runs a process on a new pty inside a running container (needs the native
   * addon). `output` is the pty, `input` goes to it, `resize` sets its size.
   */
  execTty(
    id: string,
    opts: Omit<ExecOptions, 'terminal'> & { rows?: number; cols?: number },
  ): Promise<TerminalHandle> {
    checkId(id);
    return execTty({
      runtime: this.runtimePath,
      globalArgs: [`--root=${this.runtimeRoot}`],
      id,
      dir: this.containerDir(id),
      ...opts,
    });
  }

  /**
   * Attaches to the container's stdio through conmon (needs the native addon).
   * stdin reaches the container only if it was created with `stdin: true`;
   * resize works for containers created with `terminal: true`.
   */
  attach(id: string): AttachHandle {
    checkId(id);
    return attachSocket(this.attachSocketPath(id), join(this.socketDir, id, 'ctl'));
  }

  /** Asks conmon to reopen the container's log file (after the caller rotated it). */
  async reopenLog(id: string): Promise<void> {
    checkId(id);
    await appendFile(join(this.socketDir, id, 'ctl'), '2 0 0\n');
  }

  /** The exit code conmon recorded, or undefined while the container has not exited. */
  async exitInfo(id: string): Promise<ExitInfo | undefined> {
    checkId(id);
    const file = join(this.exitDir, id);
    const code = await this.#exits.read(id);
    if (code === undefined) return undefined;
    const [st, oom] = await Promise.all([
      stat(file),
      stat(join(this.containerDir(id), 'oom')).then(
        () => true,
        () => false,
      ),
    ]);
    return { exitCode: code, oomKilled: oom, exitedAt: st.mtime };
  }

  /** Resolves with the exit code when the container exits (inotify on the exit dir, no polling). */
  waitExit(id: string, signal?: AbortSignal): Promise<number> {
    checkId(id);
    return this.#exits.wait(id, signal);
  }

  /** `{ name: 'crun', version: '1.8.1', commit }` for `info`/`version`. */
  async runtimeVersion(): Promise<{ name: string; version: string; commit?: string }> {
    const r = await this.#must(['--version'], 'reading runtime version', false);
    const first = r.stdout.split('\n')[0] ?? '';
    const m = /^(\S+) version (\S+)/.exec(first);
    const commit = /^commit: (\S+)/m.exec(r.stdout)?.[1];
    return {
      name: m?.[1] ?? basename(this.runtimePath),
      version: m?.[2] ?? first,
      ...(commit ? { commit } : {}),
    };
  }

  /** Stops watching exit files (pending waits stay pending). Containers are not touched. */
  close(): void {
    this.#exits.close();
  }

  async #fastDelete(id: string): Promise<boolean> {
    // Only once conmon has recorded the exit: then no process of the container is left.
    if ((await this.#exits.read(id)) === undefined) return false;
    try {
      return await crunFastDelete(this.runtimeRoot, id, () => {
        this.#layout ??= detectCgroups();
        return this.#layout;
      });
    } catch (err) {
      this.#log.debug({ container: id, err }, 'fast delete not possible, using the runtime');
      return false;
    }
  }

  /** Is the container's monitoring conmon still running (so an exit file is still to come)? */
  async #conmonAlive(id: string): Promise<boolean> {
    try {
      const pid = Number((await readFile(join(this.containerDir(id), 'conmon.pid'), 'utf8')).trim());
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Field 3 (after the parenthesised command) is the state; a zombie has already exited.
      return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) !== 'Z';
    } catch {
      return false;
    }
  }

  async #cleanupFiles(id: string, persistDir: string, exitDir: string): Promise<void> {
    await Promise.all([
      rm(persistDir, { recursive: true, force: true }),
      rm(join(exitDir, id), { force: true }),
      rm(join(this.socketDir, id), { force: true }),
    ]);
  }

  async #must(args: string[], doing: string, withRoot = true): Promise<CommandResult> {
    const r = await this.#run(args, withRoot);
    if (r.code !== 0) throw runtimeError(doing, r.stderr || r.stdout);
    return r;
  }

  #run(args: string[], withRoot = true): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.runtimePath, withRoot ? [`--root=${this.runtimeRoot}`, ...args] : args, {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      child.once('error', (err) =>
        reject(
          new UnavailableError(`running ${basename(this.runtimePath)} ${args[0]}: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      child.once('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
    });
  }
}

interface RawState {
  id: string;
  pid: number;
  status: string;
  bundle: string;
  created?: string;
}

function toState(s: RawState): ContainerState {
  const status: ContainerStatus =
    s.status === 'running' || s.status === 'paused' || s.status === 'stopped' ? s.status : 'created';
  return {
    id: s.id,
    status,
    pid: status === 'stopped' ? 0 : s.pid,
    bundle: s.bundle,
    ...(s.created ? { created: s.created } : {}),
  };
}

function checkId(id: string): void {
  if (!idPattern.test(id)) throw new InvalidError(`invalid container id: "${id}"`);
}
