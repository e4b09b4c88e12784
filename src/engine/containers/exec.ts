import { PassThrough } from 'node:stream';
import { ConflictError, NotFoundError } from '../../lib/errors.ts';
import { randomId } from '../../lib/random-name.ts';
import { allCapabilities } from '../oci/capabilities.ts';
import type { Runtime } from '../oci/runtime.ts';
import { StartError } from '../oci/runtime-error.ts';
import { type ResolvedUser, resolveUser } from '../oci/user.ts';
import type { ExecCreateRequest, ExecInspect, StdioSession } from '../types.ts';
import { containerPaths } from './inspect.ts';
import type { ContainerRecord } from './record.ts';
import { mergeOutputs } from './stdio.ts';

interface ExecRecord {
  id: string;
  containerId: string;
  req: ExecCreateRequest;
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  resize?: (rows: number, cols: number) => Promise<void>;
}

/**
 * `docker exec`: exec instances live in memory (as in Docker, they do not
 * survive a daemon restart) and run through the OCI runtime's exec.
 */
export class Execs {
  readonly #runtime: Runtime;
  readonly #containerDir: (rec: ContainerRecord) => string;
  readonly #execs = new Map<string, ExecRecord>();

  constructor(o: { runtime: Runtime; containerDir: (rec: ContainerRecord) => string }) {
    this.#runtime = o.runtime;
    this.#containerDir = o.containerDir;
  }

  create(rec: ContainerRecord, req: ExecCreateRequest): { Id: string } {
    if (rec.state.status === 'paused')
      throw new ConflictError(`Container ${rec.id} is paused, unpause the container before exec`);
    if (rec.state.status !== 'running') throw new ConflictError(`Container ${rec.id} is not running`);
    if (!req.Cmd?.length) throw new ConflictError('No exec command specified');
    const id = randomId();
    this.#execs.set(id, {
      id,
      containerId: rec.id,
      req,
      running: false,
      exitCode: null,
      pid: 0,
      started: false,
    });
    rec.execIds.push(id);
    return { Id: id };
  }

  get(id: string): ExecRecord {
    const e = this.#execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }

  async start(rec: ContainerRecord, execId: string, opts: { detach?: boolean }): Promise<StdioSession> {
    const e = this.get(execId);
    if (e.started) throw new ConflictError(`Error: Exec command ${execId} has already run`);
    if (rec.state.status !== 'running') throw new ConflictError(`Container ${rec.id} is not running`);
    e.started = true;
    e.running = true;
    const rootfs = containerPaths(this.#containerDir(rec)).rootfs;
    const user = await resolveUser(rootfs, e.req.User || rec.config.User);
    const env = mergeEnv(rec.config.Env ?? [], e.req.Env ?? []);
    const finish = (code: number) => {
      e.running = false;
      e.exitCode = code;
      const i = rec.execIds.indexOf(e.id);
      if (i >= 0) rec.execIds.splice(i, 1);
      return code;
    };
    try {
      if (e.req.Tty) return await this.#startTty(rec, e, { env, user, finish, detach: opts.detach ?? false });
      const handle = await this.#runtime.exec(rec.id, {
        args: e.req.Cmd,
        env,
        cwd: e.req.WorkingDir || rec.config.WorkingDir || '/',
        user,
        capabilities: e.req.Privileged || rec.hostConfig.Privileged ? [...allCapabilities] : undefined,
      });
      e.pid = handle.pid;
      const exitCode = handle.exited.then(finish, (err: unknown) =>
        finish(err instanceof StartError ? err.exitCode : 126),
      );
      if (!e.req.AttachStdin || opts.detach) handle.stdin.end();
      if (opts.detach) {
        handle.stdout.resume();
        handle.stderr.resume();
        return {
          tty: false,
          output: empty(),
          stdin: null,
          resize: async () => {},
          close: () => {},
          exitCode,
        };
      }
      const sources = [];
      if (e.req.AttachStdout !== false) sources.push({ stream: 'stdout' as const, from: handle.stdout });
      else handle.stdout.resume();
      if (e.req.AttachStderr !== false) sources.push({ stream: 'stderr' as const, from: handle.stderr });
      else handle.stderr.resume();
      return {
        tty: false,
        output: thenAwait(mergeOutputs(sources), exitCode),
        stdin: e.req.AttachStdin ? handle.stdin : null,
        resize: async () => {},
        close: () => {
          handle.stdout.destroy();
          handle.stderr.destroy();
        },
        exitCode,
      };
    } catch (err) {
      if (err instanceof StartError) {
        // Docker reports an exec that cannot start through its output and exit code.
        finish(err.exitCode);
        const out = new PassThrough();
        out.end(`OCI runtime exec failed: ${err.message}\n`);
        return {
          tty: false,
          output: mergeOutputs([{ stream: 'stderr', from: out }]),
          stdin: null,
          resize: async () => {},
          close: () => {},
          exitCode: Promise.resolve(err.exitCode),
        };
      }
      finish(126);
      throw err;
    }
  }

  async #startTty(
    rec: ContainerRecord,
    e: ExecRecord,
    o: { env: string[]; user: ResolvedUser; finish: (code: number) => number; detach: boolean },
  ): Promise<StdioSession> {
    const handle = await this.#runtime.execTty(rec.id, {
      args: e.req.Cmd,
      env: o.env,
      cwd: e.req.WorkingDir || rec.config.WorkingDir || '/',
      user: o.user,
      capabilities: e.req.Privileged || rec.hostConfig.Privileged ? [...allCapabilities] : undefined,
    });
    e.resize = (rows, cols) => handle.resize(rows, cols);
    const exitCode = handle.exited.then(o.finish, (err: unknown) =>
      o.finish(err instanceof StartError ? err.exitCode : 126),
    );
    if (o.detach || !e.req.AttachStdin) handle.input.end();
    if (o.detach) {
      handle.output.resume();
      return { tty: true, output: empty(), stdin: null, resize: e.resize, close: () => {}, exitCode };
    }
    return {
      tty: true,
      output: thenAwait(mergeOutputs([{ stream: 'stdout', from: handle.output }]), exitCode),
      stdin: e.req.AttachStdin ? handle.input : null,
      resize: e.resize,
      close: () => handle.output.destroy(),
      exitCode,
    };
  }

  /** Sets the terminal size of a TTY exec (a no-op for other execs, as in Docker). */
  async resize(execId: string, rows: number, cols: number): Promise<void> {
    await this.get(execId).resize?.(rows, cols);
  }

  inspect(execId: string): ExecInspect {
    const e = this.get(execId);
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        tty: e.req.Tty ?? false,
        entrypoint: e.req.Cmd[0] ?? '',
        arguments: e.req.Cmd.slice(1),
        privileged: e.req.Privileged ?? false,
        user: e.req.User ?? '',
      },
      OpenStdin: e.req.AttachStdin ?? false,
      OpenStderr: e.req.AttachStderr ?? false,
      OpenStdout: e.req.AttachStdout ?? false,
      ContainerID: e.containerId,
      Pid: e.pid,
      CanRemove: !e.running,
      DetachKeys: e.req.DetachKeys ?? '',
    };
  }

  /** Forgets the exec instances of a removed container. */
  forget(containerId: string): void {
    for (const [id, e] of this.#execs) if (e.containerId === containerId) this.#execs.delete(id);
  }
}

async function* empty(): AsyncGenerator<never> {}

/**
 * Ends the output only once the exit code is recorded: clients read it with
 * `exec inspect` right after the stream closes.
 */
async function* thenAwait<T>(source: AsyncIterable<T>, done: Promise<unknown>): AsyncGenerator<T> {
  yield* source;
  await done;
}

/** Container env, overridden by the exec's entries of the same name. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...m.values()];
}
