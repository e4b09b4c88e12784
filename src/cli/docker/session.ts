import type { Socket } from 'node:net';
import type { DockerClient, Hijacked } from './client.ts';
import { detachFilter } from './detach-keys.ts';
import type { Context } from './invoke.ts';
import { copyOutput } from './stdcopy.ts';

async function* socketChunks(h: Hijacked): AsyncGenerator<Buffer> {
  if (h.head.length > 0) yield h.head;
  try {
    for await (const chunk of h.socket) yield chunk as Buffer;
  } catch (err) {
    // The engine closed first (the process ended) while stdin was still being sent: that is the end, not a failure.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE' && code !== 'ECONNRESET') throw err;
  }
}

/**
 * Relays a hijacked attach/exec connection until the daemon closes it: output
 * to local stdout/stderr (demultiplexed unless `tty`), local stdin to the
 * socket when `stdin` (its EOF half-closes the socket, which the daemon passes
 * on as the process's stdin EOF). Without stdin the write side is half-closed
 * at once, as the docker CLI does. With `detachKeys` (stdin a terminal), typing
 * them leaves the process running and resolves 'detached'.
 */
export async function relaySession(
  h: Hijacked,
  opts: { tty: boolean; stdin: boolean; ctx: Context; detachKeys?: Buffer },
): Promise<'ended' | 'detached'> {
  const { socket } = h;
  const input = opts.ctx.stdin;
  let detached = false;
  socket.on('error', () => {
    // A reset after the process ended is not an error for the user; the exit code says what happened.
  });
  let source: NodeJS.ReadableStream = input;
  if (opts.stdin && opts.detachKeys && (input as NodeJS.ReadStream).isTTY) {
    source = input.pipe(
      detachFilter(opts.detachKeys, () => {
        detached = true;
        socket.destroy();
      }),
    );
  }
  if (opts.stdin) {
    source.pipe(socket as Socket, { end: true });
  } else {
    socket.end();
  }
  try {
    const systemErr = await copyOutput(socketChunks(h), opts.tty, {
      stdout: opts.ctx.stdout,
      stderr: opts.ctx.stderr,
    });
    if (systemErr) opts.ctx.stderr.write(`Error: ${systemErr}\n`);
  } catch (err) {
    if (!detached) throw err;
  } finally {
    if (opts.stdin) {
      input.unpipe();
      input.pause();
    }
    socket.destroy();
  }
  return detached ? 'detached' : 'ended';
}

/** Puts the local terminal in raw mode while `fn` runs (only when stdin is a TTY and `tty` was asked). */
export async function withRawTerminal<T>(ctx: Context, tty: boolean, fn: () => Promise<T>): Promise<T> {
  const stdin = ctx.stdin as NodeJS.ReadStream;
  if (!tty || !stdin.isTTY || typeof stdin.setRawMode !== 'function') return fn();
  stdin.setRawMode(true);
  try {
    return await fn();
  } finally {
    stdin.setRawMode(false);
  }
}

/** The local terminal's [rows, cols], or undefined when stdout is not a terminal. */
export function terminalSize(ctx: Context): [number, number] | undefined {
  const out = ctx.stdout as NodeJS.WriteStream;
  if (!out.isTTY || !out.rows || !out.columns) return undefined;
  return [out.rows, out.columns];
}

/**
 * Sends the terminal size now and on every SIGWINCH to `path` (a container's
 * or an exec's resize endpoint). Returns the function that stops listening.
 */
export function followResize(ctx: Context, client: DockerClient, path: string): () => void {
  const send = (): void => {
    const size = terminalSize(ctx);
    if (!size) return;
    client.call('POST', path, { query: { h: size[0], w: size[1] } }).catch(() => {
      // The process may have exited already; a lost resize is harmless.
    });
  };
  send();
  process.on('SIGWINCH', send);
  return () => process.off('SIGWINCH', send);
}

/** Forwards SIGINT/SIGTERM to the container (docker's --sig-proxy) while a non-TTY run is attached. */
export function proxySignals(client: DockerClient, id: string): () => void {
  const forward = (signal: NodeJS.Signals): void => {
    client.call('POST', `/containers/${id}/kill`, { query: { signal } }).catch(() => {
      // Already gone: the wait reports how it ended.
    });
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return () => {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  };
}
