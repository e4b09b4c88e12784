/**
 * `pods/exec` and `pods/attach` over WebSocket (the channel.k8s.io
 * subprotocols kubectl speaks: v5, falling back to v4), served at the API
 * server's upgrade extension point. Each binary message starts with its
 * channel: 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal
 * resize ({"Width","Height"}); v5 adds 255 to close a channel (stdin's EOF).
 * The process runs through the engine (exec) or is the container's main
 * process (attach). The handler's shape is the extension point's, declared
 * here so agent/ does not import apiserver/.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { EngineApi, StdioSession } from '../engine/types.ts';
import { serveOverSpdy, wantsSpdy } from './exec-spdy.ts';
import { labelContainerName, labelContainerType, labelPodName, labelPodNamespace } from './naming.ts';

export interface StreamRequest {
  req: IncomingMessage;
  url: URL;
  namespace?: string;
  name: string;
}

const protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

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

/** The running container the request names, or an error message. */
async function target(
  engine: EngineApi,
  r: StreamRequest,
): Promise<{ id: string } | { code: number; message: string }> {
  const list = await engine.listContainers({
    filters: { label: [`${labelPodNamespace}=${r.namespace ?? 'default'}`, `${labelPodName}=${r.name}`] },
  });
  const apps = list.filter((c) => c.Labels[labelContainerType] !== 'init');
  const name =
    r.url.searchParams.get('container') ??
    (apps.length === 1 ? apps[0]?.Labels[labelContainerName] : undefined);
  if (!name) return { code: 400, message: `a container name must be specified for pod ${r.name}` };
  const c = list.find((x) => x.Labels[labelContainerName] === name);
  if (!c) return { code: 400, message: `container ${name} is not valid for pod ${r.name} or is not running` };
  return { id: c.Id };
}

function exitStatus(code: number, cmd: string[]): object {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** Relays one session over the socket until the process ends (exec) or the client goes (attach). */
function relay(ws: WebSocket, session: StdioSession, done: Promise<object | undefined>): void {
  const send = (ch: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ch]), data]));
  };
  const pumped = (async () => {
    for await (const o of session.output) send(o.stream === 'stderr' ? 2 : 1, o.data);
  })().catch(() => undefined);
  ws.on('message', (raw: Buffer) => {
    const ch = raw[0];
    const data = raw.subarray(1);
    if (ch === 0) session.stdin?.write(data);
    else if (ch === 4) {
      const size = JSON.parse(data.toString() || '{}') as { Width?: number; Height?: number };
      if (size.Width && size.Height) void session.resize(size.Height, size.Width).catch(() => undefined);
    } else if (ch === 255 && data[0] === 0) session.stdin?.end();
  });
  ws.on('close', () => session.close());
  void done.then(async (status) => {
    // The process has ended: let its last output through before the Status.
    await Promise.race([pumped, new Promise((r) => setTimeout(r, 2000))]);
    if (status) send(3, Buffer.from(JSON.stringify(status)));
    ws.close(1000);
    session.close();
  });
}

/** Upgrades to WebSocket and calls `open` at once (no message may arrive before its listeners). */
function upgrade(r: StreamRequest, socket: Duplex, head: Buffer, open: (ws: WebSocket) => void): boolean {
  const offered = String(r.req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  if (!protocols.some((p) => offered.includes(p))) {
    refuse(socket, 400, `none of the offered subprotocols is supported (${protocols.join(', ')})`);
    return false;
  }
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (set) => protocols.find((p) => set.has(p)) ?? false,
  });
  wss.handleUpgrade(r.req, socket, head, open);
  return true;
}

const flag = (q: URLSearchParams, k: string) => q.get(k) === 'true' || q.get(k) === '1';

export function podExecHandler(
  engine: EngineApi,
): (r: StreamRequest, socket: Duplex, head: Buffer) => Promise<void> {
  return async (r, socket, head) => {
    const q = r.url.searchParams;
    const cmd = q.getAll('command');
    if (cmd.length === 0)
      return refuse(socket, 400, 'you must specify at least one command for the container');
    const t = await target(engine, r);
    if ('code' in t) return refuse(socket, t.code, t.message);
    const tty = flag(q, 'tty');
    const { Id } = await engine.createExec(t.id, {
      Cmd: cmd,
      Tty: tty,
      AttachStdin: flag(q, 'stdin'),
      AttachStdout: flag(q, 'stdout'),
      AttachStderr: flag(q, 'stderr'),
    });
    // The process starts before the upgrade so the socket's first messages (stdin) find it.
    const session = await engine.startExec(Id, { tty });
    const done = (session.exitCode ?? Promise.resolve(0)).then((code) => exitStatus(code, cmd));
    if (wantsSpdy(r)) {
      const want = { stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty };
      if (!serveOverSpdy(r, socket, head, { session, done, want })) session.close();
      return;
    }
    if (!upgrade(r, socket, head, (ws) => relay(ws, session, done))) session.close();
  };
}

export function podAttachHandler(
  engine: EngineApi,
): (r: StreamRequest, socket: Duplex, head: Buffer) => Promise<void> {
  return async (r, socket, head) => {
    const q = r.url.searchParams;
    const t = await target(engine, r);
    if ('code' in t) return refuse(socket, t.code, t.message);
    const session = await engine.attachContainer(t.id, {
      stdin: flag(q, 'stdin'),
      stdout: flag(q, 'stdout'),
      stderr: flag(q, 'stderr'),
      stream: true,
    });
    const ended = engine.waitContainer(t.id, 'not-running').then(
      () => ({ metadata: {}, status: 'Success' }),
      () => undefined,
    );
    if (wantsSpdy(r)) {
      const want = {
        stdin: flag(q, 'stdin'),
        stdout: flag(q, 'stdout'),
        stderr: flag(q, 'stderr'),
        tty: flag(q, 'tty'),
      };
      if (!serveOverSpdy(r, socket, head, { session, done: ended, want })) session.close();
      return;
    }
    if (!upgrade(r, socket, head, (ws) => relay(ws, session, ended))) session.close();
  };
}
