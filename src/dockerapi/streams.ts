/**
 * Stream plumbing shared by attach, exec, logs: Docker's stdcopy framing and
 * the connection hijack.
 *
 * Framing (no TTY): an 8-byte header [stream, 0, 0, 0, size as big-endian
 * uint32] before each payload; stream 1 = stdout, 2 = stderr. With a TTY the
 * bytes go raw.
 *
 * Hijack: the client sends `Upgrade: tcp`; we answer `101 UPGRADED` and the
 * socket becomes a raw duplex: output to the client, stdin from it. The client
 * half-closes (FIN) when its stdin ends; that becomes stdin EOF for the
 * process, and we keep writing until the process's output ends.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { StdioSession } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';
import { DetachScanner } from './detach-keys.ts';
import { commonHeaders } from './respond.ts';
import { type Context, readBody, versionLess } from './router.ts';

export function frame(stream: 'stdout' | 'stderr', data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** 20.10 (API 1.41) always says raw-stream; API >= 1.42 names the multiplexed case. */
export function streamContentType(apiVersion: string, tty: boolean): string {
  if (!tty && !versionLess(apiVersion, '1.42')) return 'application/vnd.docker.multiplexed-stream';
  return 'application/vnd.docker.raw-stream';
}

/** The request body of a hijackable request, plus any bytes the client sent after it (early stdin). */
export async function readHijackBody(ctx: Context): Promise<{ body: Buffer; early: Buffer }> {
  if (!ctx.upgrade) return { body: await readBody(ctx.req), early: Buffer.alloc(0) };
  const length = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isFinite(length) || length < 0) throw new InvalidError('invalid Content-Length');
  const { socket, head } = ctx.upgrade;
  // Hold early stdin in the socket until relaySession has its listeners on.
  socket.pause();
  let buf = head;
  if (buf.length < length) {
    buf = await new Promise<Buffer>((resolve, reject) => {
      let acc = buf;
      const onData = (d: Buffer) => {
        acc = Buffer.concat([acc, d]);
        if (acc.length >= length) finish(null);
      };
      const onEnd = () => finish(new InvalidError('connection closed before the request body ended'));
      const finish = (err: Error | null) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.pause();
        if (err) reject(err);
        else resolve(acc);
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.resume();
    });
  }
  return { body: buf.subarray(0, length), early: buf.subarray(length) };
}

const accepted = new WeakSet<Socket>();
const HALF_OPEN_GRACE_MS = 10_000;

/** True once the 101 went out on this socket: errors can no longer be sent as HTTP responses. */
export function isHijacked(socket: Socket): boolean {
  return accepted.has(socket);
}

export interface HijackedStream {
  /** Where output goes: the raw socket (upgrade) or the response body (old-style). */
  out: Writable;
  /** The raw socket for stdin, when the connection was upgraded. */
  socket: Socket | null;
}

/** Sends the 101 (or, for clients that did not ask to upgrade, a 200) and returns the raw stream. */
export function acceptHijack(ctx: Context, contentType: string): HijackedStream {
  if (ctx.upgrade) {
    const { socket } = ctx.upgrade;
    accepted.add(socket);
    socket.write(
      `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
        Object.entries(commonHeaders())
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    );
    socket.setNoDelay(true);
    return { out: socket, socket };
  }
  const res = ctx.res!;
  // Old-style clients read the raw stream until the connection closes: no chunking.
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(200, { 'Content-Type': contentType, Connection: 'close' });
  res.flushHeaders();
  return { out: res, socket: null };
}

function write(out: Writable, chunk: Buffer): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return Promise.resolve(false);
  if (out.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}

/**
 * Relays a session over a hijacked stream until its output ends, then closes
 * the stream. Client bytes go to the session's stdin; the client's FIN ends
 * stdin; the client vanishing closes the session.
 */
export async function relaySession(
  session: StdioSession,
  stream: HijackedStream,
  early: Buffer,
  opts: { detachKeys?: Buffer } = {},
): Promise<void> {
  const { out, socket } = stream;
  const stdin = session.stdin;
  const onGone = () => session.close();
  out.on('close', onGone);
  if (socket) {
    socket.on('error', () => session.close());
    if (stdin) {
      const scanner =
        opts.detachKeys && opts.detachKeys.length > 0 ? new DetachScanner(opts.detachKeys) : null;
      let detached = false;
      const onData = (d: Buffer) => {
        if (detached) return;
        if (!scanner) {
          stdin.write(d);
          return;
        }
        const r = scanner.push(d);
        if (r.pass.length > 0) stdin.write(r.pass);
        if (r.detached) {
          // Leave the process alone (its stdin stays open); just stop relaying.
          detached = true;
          session.close();
        }
      };
      if (early.length > 0) onData(early);
      socket.on('data', onData);
      socket.on('end', () => {
        if (!detached) stdin.end();
      });
      stdin.on('error', () => {});
    } else {
      // Drain and ignore: the client's FIN must not stop our output.
      socket.on('data', () => {});
    }
    socket.resume();
  } else if (stdin) {
    stdin.end();
  }
  try {
    for await (const chunk of session.output) {
      const bytes = session.tty ? chunk.data : frame(chunk.stream, chunk.data);
      if (!(await write(out, bytes))) break;
    }
  } finally {
    out.off('close', onGone);
    session.close();
    if (!out.destroyed) out.end();
    // dockerd closes the whole connection when the stream ends. Destroying at once could
    // turn our FIN into a RST and lose output the client has not read yet, so give the
    // client a while to close its side (the CLI does at once).
    if (socket && !socket.destroyed) {
      const timer = setTimeout(() => socket.destroy(), HALF_OPEN_GRACE_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
  }
}
