/**
 * `pods/portforward` for the API server's upgrade extension point, as
 * kubectl 1.32 speaks it: first a WebSocket with the subprotocol
 * `SPDY/3.1+portforward.k8s.io` (SPDY/3.1 frames carried in binary
 * messages), else a plain `Upgrade: SPDY/3.1` with
 * `X-Stream-Protocol-Version: portforward.k8s.io`. Either way the client
 * opens two streams per local connection, `streamType: error` and
 * `streamType: data`, both with `port` and `requestID`; once both are here
 * the data stream is joined to a TCP connection to the pod's port, and the
 * error stream carries a message if that fails. Both streams are closed
 * (FIN) when the pod's side of the connection ends.
 *
 * The pod's port is reached at its pod IP from the host (the CNI bridge), or
 * at 127.0.0.1 for hostNetwork pods. When the pod IP refuses and the pod has
 * a network namespace of its own, the connection is made from inside it to
 * 127.0.0.1 (a listener bound to the pod's loopback only), through
 * `nsenter --net=<netns> busybox nc` (a process per connection, as upstream's
 * socat once was; Node cannot open a socket in another namespace itself).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { Session, type SpdyStream } from '../lib/spdy/session.ts';
import type { StreamRequest } from './exec.ts';

export const portForwardProtocol = 'portforward.k8s.io';
export const tunnelProtocol = `SPDY/3.1+${portForwardProtocol}`;

/** Where a pod's ports are reached, or why they cannot be. */
export type PodAddress = { host: string; uid?: string; netns?: string } | { code: number; message: string };

export interface PortForwardOptions {
  /** The address of the named pod on this node. */
  podAddress(namespace: string, name: string): Promise<PodAddress> | PodAddress;
  /** Opens the connection to the pod (default: TCP). */
  dial?(host: string, port: number): Duplex;
  /** Opens a connection to 127.0.0.1:<port> inside a network namespace (default: nsenter + busybox nc). */
  dialLoopback?(netns: string, port: number): LoopbackConn | undefined;
  /** Streams of one connection that do not pair up in time are reset (default 30 s). */
  pairTimeoutMs?: number;
}

function refuse(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    code,
  });
  socket.end(
    `HTTP/1.1 ${code} ${code === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const header = (s: SpdyStream, name: string) => s.headers[name.toLowerCase()]?.[0] ?? '';

/**
 * Serves one port-forward session: pairs error and data streams by
 * requestID and joins each pair to a connection to `host:<port>`.
 */
export function forwardPorts(
  session: Session,
  target: { host: string; pod: string; uid?: string; netns?: string },
  opts: Pick<PortForwardOptions, 'dial' | 'dialLoopback' | 'pairTimeoutMs'> = {},
): void {
  const dial = opts.dial ?? ((host: string, port: number) => net.connect({ host, port }));
  const dialLoopback = opts.dialLoopback ?? loopbackInNetns;
  const pending = new Map<string, { error?: SpdyStream; data?: SpdyStream; timer: NodeJS.Timeout }>();
  session.on('error', () => undefined);
  session.on('stream', (stream) => {
    const type = header(stream, 'streamType');
    const id = header(stream, 'requestID');
    if (type !== 'error' && type !== 'data') {
      stream.reset();
      return;
    }
    void stream.reply().catch(() => undefined);
    stream.on('error', () => undefined);
    let pair = pending.get(id);
    if (!pair) {
      const timer = setTimeout(() => {
        pending.delete(id);
        pair?.error?.reset();
        pair?.data?.reset();
      }, opts.pairTimeoutMs ?? 30_000);
      timer.unref();
      pair = { timer };
      pending.set(id, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    const { error, data } = pair;
    if (!error || !data) return;
    clearTimeout(pair.timer);
    pending.delete(id);
    join(error, data);
  });
  session.on('close', () => {
    for (const p of pending.values()) clearTimeout(p.timer);
    pending.clear();
  });

  function join(error: SpdyStream, data: SpdyStream): void {
    const port = Number(header(data, 'port'));
    const fail = (message: string) => {
      if (!error.destroyed) error.end(message);
      if (!data.destroyed) data.end();
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`invalid port ${JSON.stringify(header(data, 'port'))}`);
      return;
    }
    // The client never writes to the error stream; drain it so its FIN is seen.
    error.resume();
    const failed = (where: string, why: string) =>
      fail(
        `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid ?? ''}: failed to connect to ${where}:${port}: ${why}`,
      );
    const conn = dial(target.host, port);
    let connected = false;
    conn.once('connect', () => {
      connected = true;
      relay(error, data, conn);
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) return;
      // Refused at the pod IP: perhaps a listener on the pod's own loopback.
      const inside =
        err.code === 'ECONNREFUSED' && target.netns ? dialLoopback(target.netns, port) : undefined;
      if (!inside) return failed(target.host, err.message);
      let answered = false;
      inside.once('data', () => {
        answered = true;
      });
      inside.on('error', () => undefined);
      relay(error, data, inside, async () => {
        const code = await inside.exited;
        if (!answered && code !== 0) failed('127.0.0.1 inside the pod', 'connection refused there too');
      });
    });
  }

  /** Joins the data stream to the pod's side; both streams end when it does. */
  function relay(error: SpdyStream, data: SpdyStream, conn: Duplex, onClose?: () => Promise<void>): void {
    data.pipe(conn);
    conn.pipe(data);
    // The pod's side is done (or failed): the client reads the error stream to its end next.
    conn.on('close', () => {
      void (onClose?.() ?? Promise.resolve()).then(() => {
        if (!error.destroyed && !error.writableEnded) error.end();
        if (!data.destroyed && !data.writableEnded) data.end();
      });
    });
    // The client resets the data stream once it has what it wanted.
    data.on('close', () => {
      if (data.wasReset || session.isClosed) conn.destroy();
    });
  }
}

const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

/** A connection made by a helper process, with its exit code. */
export type LoopbackConn = Duplex & { exited: Promise<number> };

/**
 * A connection to 127.0.0.1:<port> in the network namespace `netns`: busybox
 * nc run there by nsenter, its stdio as the stream (nc half-closes on stdin's
 * end and exits when the pod closes). Undefined without busybox.
 */
export function loopbackInNetns(netns: string, port: number): LoopbackConn | undefined {
  if (!busybox) return undefined;
  const child = spawn('nsenter', [`--net=${netns}`, busybox, 'nc', '127.0.0.1', String(port)], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin }) as LoopbackConn;
  stream.on('error', () => undefined);
  // A non-zero exit is a failed connect (or worse); 'close' comes after nc's output is read out.
  stream.exited = new Promise((resolve) =>
    child.on('close', (code) => {
      resolve(code ?? 1);
      stream.destroy();
    }),
  );
  stream.on('close', () => child.kill());
  return stream;
}

/** Upgrades the request to a SPDY session, over a WebSocket tunnel or directly. */
export function upgradeToSpdy(r: StreamRequest, socket: Duplex, head: Buffer): Promise<Session | undefined> {
  const h = r.req.headers;
  const upgrade = String(h.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') {
    const offered = String(h['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(tunnelProtocol)) {
      refuse(socket, 400, `none of the offered subprotocols is supported (${tunnelProtocol})`);
      return Promise.resolve(undefined);
    }
    // `ws` accepts only RFC 7230 tokens as subprotocols and "SPDY/3.1+..." has a "/": hide the
    // header from its parser and name the protocol in the answer ourselves.
    r.req.headers['sec-websocket-protocol'] = portForwardProtocol;
    const wss = new WebSocketServer({ noServer: true, handleProtocols: () => tunnelProtocol });
    return new Promise((resolve) =>
      wss.handleUpgrade(r.req, socket, head, (ws) => {
        // Opened before any message can arrive: the stream buffers what comes next.
        const stream = createWebSocketStream(ws);
        stream.on('error', () => undefined);
        resolve(new Session(stream, { server: true }));
      }),
    );
  }
  const versions = String(h['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((p) => p.trim());
  if (upgrade !== 'spdy/3.1' || !versions.includes(portForwardProtocol)) {
    refuse(socket, 400, `unable to upgrade: expected SPDY/3.1 with protocol ${portForwardProtocol}`);
    return Promise.resolve(undefined);
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${portForwardProtocol}\r\n\r\n`,
  );
  // Bytes that came with the request go first; the session reads from here on.
  if (head.length > 0) socket.unshift(head);
  return Promise.resolve(new Session(socket, { server: true }));
}

export function podPortForwardHandler(
  opts: PortForwardOptions,
): (r: StreamRequest, socket: Duplex, head: Buffer) => Promise<void> {
  return async (r, socket, head) => {
    const ns = r.namespace ?? 'default';
    const addr = await opts.podAddress(ns, r.name);
    if ('code' in addr) return refuse(socket, addr.code, addr.message);
    const session = await upgradeToSpdy(r, socket, head);
    if (session)
      forwardPorts(session, { host: addr.host, pod: r.name, uid: addr.uid, netns: addr.netns }, opts);
  };
}
