/**
 * Running an extra process in a running container: `<runtime> exec --process
 * <file> <id>` as a direct child of the daemon, with pipes for stdio (the TTY
 * variant needs fd passing and lives in the native addon). The runtime's own
 * errors go to a JSON log file, so stderr carries only the process's output.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UnavailableError } from '../../lib/errors.ts';
import { computeCapabilities } from './capabilities.ts';
import type { OciProcess } from './oci-spec.ts';
import { classifyStartFailure, runtimeError, StartError } from './runtime-error.ts';

export interface ExecOptions {
  args: string[];
  /** Default: PATH only. Callers usually pass the container's env plus their own. */
  env?: string[];
  /** Default "/". */
  cwd?: string;
  /** Numeric ids (resolve names with resolveUser against the container's rootfs). Default root. */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** Only false here; a TTY exec goes through the native addon. */
  terminal?: false;
  /** `CAP_...` names; default Docker's default set (pass the container's set when it differs). */
  capabilities?: string[];
  noNewPrivileges?: boolean;
}

export interface ExecHandle {
  /** pid of the runtime's exec process (the exec'd process is its child until it execs). */
  pid: number;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /**
   * The process's exit code (128+n when killed by signal n). Rejects with
   * StartError (exitCode 127 or 126) when the command could not be started, or
   * another error when the runtime failed (e.g. the container is not running).
   */
  exited: Promise<number>;
}

export interface StartExecOptions extends ExecOptions {
  runtime: string;
  globalArgs: string[];
  id: string;
  /** Scratch dir for the process file and the runtime log (the container's persist dir). */
  dir: string;
}

export async function startExec(o: StartExecOptions): Promise<ExecHandle> {
  const caps = o.capabilities ?? computeCapabilities({});
  const user = o.user ?? { uid: 0, gid: 0 };
  const proc: OciProcess = {
    terminal: false,
    user: {
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids?.length ? { additionalGids: user.additionalGids } : {}),
    },
    args: o.args,
    env: o.env?.some((e) => e.startsWith('PATH='))
      ? o.env
      : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(o.env ?? [])],
    cwd: o.cwd || '/',
    capabilities: {
      bounding: caps,
      effective: user.uid === 0 ? caps : [],
      permitted: user.uid === 0 ? caps : [],
      inheritable: [],
      ambient: [],
    },
    noNewPrivileges: !!o.noNewPrivileges,
  };
  const tag = randomBytes(6).toString('hex');
  const processFile = join(o.dir, `exec-${tag}.json`);
  const logFile = join(o.dir, `exec-${tag}.log`);
  await mkdir(o.dir, { recursive: true });
  await writeFile(processFile, JSON.stringify(proc));
  const child = spawn(
    o.runtime,
    [...o.globalArgs, '--log-format=json', `--log=${logFile}`, 'exec', '--process', processFile, o.id],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new UnavailableError(`exec in container ${o.id}: ${err.message}`, { cause: err })),
    );
    child.once('close', (code, signal) => {
      void (async () => {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        await Promise.all([rm(processFile, { force: true }), rm(logFile, { force: true })]);
        const exitCode = code ?? 128 + signalNumber(signal);
        // A runtime error is only an error when the runtime says so; the process's own failures are exit codes.
        if (exitCode !== 0 && /"level":\s*"(error|fatal)"/.test(log)) {
          const err = runtimeError(`exec in container ${o.id}`, log);
          const start = classifyStartFailure(err.message);
          reject(start && !(err instanceof StartError) ? new StartError(err.message, start) : err);
          return;
        }
        resolve(exitCode);
      })();
    });
  });
  return {
    pid: child.pid ?? 0,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
  };
}

const signals: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGPIPE: 13,
};

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (signals[signal] ?? 0) : 1;
}
