/**
 * `pods/exec` and `pods/attach` over SPDY/3.1, the transport kubectl falls
 * back to when the WebSocket upgrade fails (and older clients' only one):
 * `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version` offering
 * v5..v1.channel.k8s.io; v4 is chosen. The client opens one stream per
 * channel, named by its `streamType` header: error, stdin, stdout, stderr
 * and (with a tty) resize, whose JSON `{"Width","Height"}` objects follow
 * each other. Once every expected stream is here the process's stdio is
 * relayed; at its end the final Status (v4: a metav1.Status JSON, exit code
 * in a NonZeroExitCode cause) goes on the error stream and every stream is
 * closed.
 */
import type { Duplex } from 'node:stream';
import type { StdioSession } from '../engine/types.ts';
import { Session, type SpdyStream } from '../lib/spdy/session.ts';
import type { StreamRequest } from './exec.ts';

export const spdyExecProtocol = 'v4.channel.k8s.io';

export interface ExecStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** True when the request asks for a SPDY upgrade rather than a WebSocket. */
export function wantsSpdy(r: StreamRequest): boolean {
  return String(r.req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';
}

/**
 * Upgrades to SPDY and relays `session` once the expected streams are open;
 * `done` resolves with the final Status (undefined: none is sent).
 * Returns false (having answered 400) when no offered protocol fits.
 */
export function serveOverSpdy(
  r: StreamRequest,
  socket: Duplex,
  head: Buffer,
  io: { session: StdioSession; done: Promise<object | undefined>; want: ExecStreams },
): boolean {
  const offered = String(r.req.headers['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((p) => p.trim());
  if (!offered.includes(spdyExecProtocol)) {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `none of the offered protocols is supported (${spdyExecProtocol})`,
      code: 400,
    });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return false;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${spdyExecProtocol}\r\n\r\n`,
  );
  if (head.length > 0) socket.unshift(head);
  const spdy = new Session(socket, { server: true });
  spdy.on('error', () => undefined);
  const { want } = io;
  const expected = new Set(['error']);
  if (want.stdin) expected.add('stdin');
  if (want.stdout) expected.add('stdout');
  if (want.stderr && !want.tty) expected.add('stderr');
  if (want.tty) expected.add('resize');
  const streams = new Map<string, SpdyStream>();
  const timer = setTimeout(() => spdy.close(), 30_000);
  timer.unref();
  spdy.on('stream', (s) => {
    const type = s.headers.streamtype?.[0] ?? '';
    if (!expected.has(type) || streams.has(type)) {
      s.reset();
      return;
    }
    s.on('error', () => undefined);
    void s.reply().catch(() => undefined);
    streams.set(type, s);
    if (streams.size === expected.size) {
      clearTimeout(timer);
      relay(spdy, streams, io);
    }
  });
  spdy.on('close', () => {
    clearTimeout(timer);
    io.session.close();
  });
  return true;
}

function relay(
  spdy: Session,
  streams: Map<string, SpdyStream>,
  io: { session: StdioSession; done: Promise<object | undefined> },
): void {
  const { session } = io;
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');
  const pumped = (async () => {
    for await (const o of session.output) {
      const target = o.stream === 'stderr' ? (stderr ?? stdout) : stdout;
      if (target && !target.destroyed && !target.writableEnded) target.write(o.data);
    }
  })().catch(() => undefined);
  const stdin = streams.get('stdin');
  stdin?.on('data', (d: Buffer) => session.stdin?.write(d));
  stdin?.on('end', () => session.stdin?.end());
  let pending = '';
  streams.get('resize')?.on('data', (d: Buffer) => {
    pending += d.toString();
    // json.Encoder writes one object per line.
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      try {
        const size = JSON.parse(line) as { Width?: number; Height?: number };
        if (size.Width && size.Height) void session.resize(size.Height, size.Width).catch(() => undefined);
      } catch {
        // A malformed size is ignored, as upstream does.
      }
    }
  });
  void io.done.then(async (status) => {
    // The process has ended: let its last output through before the Status.
    await Promise.race([pumped, new Promise((r) => setTimeout(r, 2000))]);
    const error = streams.get('error');
    if (status && error && !error.destroyed) error.write(JSON.stringify(status));
    for (const s of streams.values()) if (!s.destroyed && !s.writableEnded) s.end();
    session.close();
    // Give the FINs a moment to leave before the session goes.
    setTimeout(() => spdy.close(), 100).unref();
  });
}
