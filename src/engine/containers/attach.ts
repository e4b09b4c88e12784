/**
 * `docker attach` and `run -a`: the container's output from its log file
 * (followed while it lives) and its stdin through conmon's attach socket.
 */
import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Runtime } from '../oci/runtime.ts';
import type { StdioSession } from '../types.ts';
import { containerPaths } from './inspect.ts';
import { readLogs } from './logs.ts';
import type { ContainerManager } from './manager.ts';
import type { ContainerRecord } from './record.ts';

export interface AttachDeps {
  containers: ContainerManager;
  runtime: Runtime;
  log: Logger;
}

export async function attachSession(
  deps: AttachDeps,
  rec: ContainerRecord,
  opts: { stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; stream?: boolean },
  resize: (rows: number, cols: number) => Promise<void>,
): Promise<StdioSession> {
  const logPath = containerPaths(deps.containers.dir(rec)).log;
  const file = await open(logPath, 'r');
  const fromOffset = opts.logs ? 0 : (await file.stat()).size;
  const ac = new AbortController();
  let startedSinceAttach = rec.state.status !== 'created';
  const unsubscribe = deps.containers.onStart(rec.id, () => {
    startedSinceAttach = true;
  });
  const isLive = () =>
    !!deps.containers.records.find(rec.id) &&
    (['running', 'paused', 'restarting'].includes(rec.state.status) || !startedSinceAttach);
  const tty = rec.config.Tty ?? false;
  const input = opts.stdin && rec.config.OpenStdin ? attachStdin(deps, rec) : undefined;
  const entries = readLogs(logPath, {
    follow: opts.stream !== false,
    stdout: opts.stdout !== false,
    stderr: opts.stderr !== false,
    signal: ac.signal,
    exited: () => !isLive(),
    file,
    fromOffset,
  });
  async function* output() {
    try {
      for await (const e of entries) yield { stream: tty ? ('stdout' as const) : e.stream, data: e.data };
    } finally {
      unsubscribe();
      input?.release();
    }
  }
  return {
    tty,
    output: output(),
    stdin: input?.stdin ?? null,
    resize,
    close: () => ac.abort(),
  };
}

/**
 * stdin for an attach: a pipe that reaches conmon's attach socket once the
 * container runs (a `run -i` attaches before start). Ending it ends the
 * container's stdin when the container was created with StdinOnce.
 */
function attachStdin(deps: AttachDeps, rec: ContainerRecord): { stdin: PassThrough; release: () => void } {
  const stdin = new PassThrough();
  let handle: ReturnType<Runtime['attach']> | undefined;
  const connect = () => {
    if (handle || rec.state.status !== 'running') return;
    try {
      handle = deps.runtime.attach(rec.id);
    } catch (err) {
      // A short-lived container may be gone before its stdin is connected.
      deps.log.debug({ id: rec.id, err: describeError(err) }, 'attaching stdin failed');
      stdin.resume();
      return;
    }
    handle.stdout.resume();
    handle.stderr.resume();
    // The container may exit while input still flows: a write to the closed
    // socket must end this relay, not the daemon.
    handle.stdin.on('error', () => stdin.unpipe());
    stdin.pipe(handle.stdin);
    stdin.once('end', () => handle?.close());
  };
  const unsubscribe = deps.containers.onStart(rec.id, connect);
  connect();
  return {
    stdin,
    release: () => {
      unsubscribe();
      handle?.close();
    },
  };
}
