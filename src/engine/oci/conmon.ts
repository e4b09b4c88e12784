/**
 * Starting conmon for one container and reading its sync pipe.
 *
 * conmon forks, the child runs `<runtime> create`, and conmon reports the
 * container's pid (or the runtime's error) as one JSON line on the fd named by
 * `_OCI_SYNCPIPE`: `{"data": <pid>}` or `{"data": -1, "message": "..."}`. The
 * parent conmon exits once create is done; the monitoring conmon lives on in its
 * own session (we spawn it detached), holds the container's stdio, writes the
 * log and finally `<exitDir>/<id>` with the exit code, then runs the exit command.
 * It does not depend on us: containers keep running when the daemon stops.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { UnavailableError } from '../../lib/errors.ts';
import { runtimeError } from './runtime-error.ts';

export interface ConmonArgs {
  conmon: string;
  runtime: string;
  /** Global runtime args (e.g. `--root=DIR`), given to every runtime invocation conmon makes. */
  runtimeArgs: string[];
  id: string;
  bundleDir: string;
  /** Our files for this container: pidfile, conmon.pid, oci-log, conmon's persist files (exit, oom). */
  persistDir: string;
  exitDir: string;
  /** Where conmon links `<id>` → bundle dir for the attach socket (`<socketDir>/<id>/attach`). */
  socketDir: string;
  logPath: string;
  logMaxSize?: number;
  terminal: boolean;
  stdin: boolean;
  /** Close the container's stdin when the first attached client disconnects (docker's StdinOnce). */
  stdinOnce?: boolean;
  exitCommand?: string[];
  /** conmon's own log level (to stderr/syslog); default `error`. */
  logLevel?: string;
}

export function conmonArgv(a: ConmonArgs): string[] {
  const argv = [
    '--api-version',
    '1',
    '-c',
    a.id,
    '-u',
    a.id,
    '-n',
    a.id,
    '-r',
    a.runtime,
    '-b',
    a.bundleDir,
    '-p',
    `${a.persistDir}/pidfile`,
    '-P',
    `${a.persistDir}/conmon.pid`,
    '-0',
    a.persistDir,
    '--exit-dir',
    a.exitDir,
    '--socket-dir-path',
    a.socketDir,
    '-l',
    `k8s-file:${a.logPath}`,
    '--log-level',
    a.logLevel ?? 'error',
    // conmon would otherwise fsync the log after the container exits: a disk flush on every stop.
    '--no-sync-log',
    '--runtime-arg',
    '--log-format=json',
    '--runtime-arg',
    `--log=${a.persistDir}/oci-log`,
  ];
  for (const r of a.runtimeArgs) argv.push('--runtime-arg', r);
  if (a.logMaxSize && a.logMaxSize > 0) argv.push('--log-size-max', String(a.logMaxSize));
  if (a.terminal) argv.push('-t');
  if (a.stdin) argv.push('-i');
  if (a.stdin && !a.stdinOnce) argv.push('--leave-stdin-open');
  if (a.exitCommand && a.exitCommand.length > 0) {
    const [cmd, ...rest] = a.exitCommand;
    argv.push('--exit-command', cmd as string);
    for (const r of rest) argv.push('--exit-command-arg', r);
  }
  return argv;
}

export interface ConmonResult {
  /** The container's init pid. */
  pid: number;
  /** The monitoring conmon's pid. */
  conmonPid: number;
}

/** Reads one line from a stream (conmon writes the whole JSON object in one write). */
function readLine(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        cleanup();
        resolve(buf.slice(0, nl));
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(buf);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * Spawns conmon (detached: its own session, no stdio tied to us) and waits
 * for the sync pipe. Throws the runtime's error (StartError for a missing or
 * non-executable command) when create failed.
 */
export async function spawnConmon(
  a: ConmonArgs,
  readConmonPid: () => Promise<number>,
): Promise<ConmonResult> {
  const child = spawn(a.conmon, conmonArgv(a), {
    detached: true,
    // fd 3 is the sync pipe (a socketpair from node; conmon only reads and writes it).
    // stderr is not kept: the monitoring conmon inherits it and would die of SIGPIPE once we close it.
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, _OCI_SYNCPIPE: '3' },
    // conmon also drops an `oom` marker into its working directory on an OOM
    // kill; keep it with the container's state, not wherever we were started.
    cwd: a.persistDir,
  });
  child.unref();
  const sync = child.stdio[3] as Readable;
  let exitCode: number | null = null;
  child.once('exit', (code) => {
    exitCode = code;
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(new UnavailableError(`starting conmon for ${a.id}: ${err.message}`, { cause: err })),
    ),
  );
  let line: string;
  try {
    line = await Promise.race([readLine(sync), spawnError]);
  } finally {
    sync.destroy();
  }
  let msg: { data?: number; message?: string };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    throw new UnavailableError(
      `creating container ${a.id}: conmon exited (${exitCode}) without a result${line ? `: ${line}` : ''}`,
    );
  }
  if (typeof msg.data !== 'number' || msg.data <= 0) {
    throw runtimeError(`creating container ${a.id}`, msg.message ?? '');
  }
  return { pid: msg.data, conmonPid: await readConmonPid() };
}
