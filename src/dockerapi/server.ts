/**
 * The Docker Engine API server: HTTP/1.1 over a unix socket (or TCP), routing
 * to the per-area handlers over an EngineApi. Never dies on a bad request or a
 * client that goes away; every response carries Docker's common headers.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { EngineApi } from '../engine/types.ts';
import { UnavailableError } from '../lib/errors.ts';
import { type Logger, silentLogger } from '../lib/logger.ts';
import { containerRoutes } from './containers.ts';
import { containerStreamRoutes } from './containers-streams.ts';
import { execRoutes } from './exec.ts';
import { imageRoutes } from './images.ts';
import { networkRoutes } from './networks.ts';
import { commonHeaders, HttpError, sendError, statusOf, writeRawError } from './respond.ts';
import { type Context, compileRoutes, matchRoute, type Route, splitVersion } from './router.ts';
import { isHijacked } from './streams.ts';
import { systemRoutes } from './system.ts';
import { volumeRoutes } from './volumes.ts';

export interface DockerApiServerOptions {
  engine: EngineApi;
  log?: Logger;
  /**
   * More routes from other parts (e.g. the builder's `POST /build`), matched
   * before the built-in ones. Handlers get the same Context and error mapping.
   */
  routes?: Route[];
}

export type ListenTarget = string | { host: string; port: number };

export interface DockerApiServer {
  /**
   * Listens on a unix socket path (mode 0660, a stale file replaced) or a TCP host/port.
   * May be called more than once (a socket and a TCP port).
   */
  listen(target: ListenTarget): Promise<void>;
  /** The bound TCP port (after listening on port 0), or null for a unix socket. */
  port(): number | null;
  /** Stops accepting, ends open streams and hijacked connections. */
  close(): Promise<void>;
}

export function createDockerApiServer(opts: DockerApiServerOptions): DockerApiServer {
  const engine = opts.engine;
  const log = (opts.log ?? silentLogger()).child({ component: 'dockerapi' });
  const routes = compileRoutes([
    ...(opts.routes ?? []),
    ...systemRoutes,
    ...containerRoutes,
    ...containerStreamRoutes,
    ...execRoutes,
    ...imageRoutes,
    ...networkRoutes,
    ...volumeRoutes,
  ]);
  const hijacked = new Set<Socket>();

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse | null,
    upgrade: { socket: Socket; head: Buffer } | null,
  ): Promise<void> {
    const ac = new AbortController();
    const fail = (err: unknown) => {
      const status = statusOf(err);
      if (status >= 500) log.warn({ err, method: req.method, url: req.url }, 'request failed');
      else
        log.debug(
          { method: req.method, url: req.url, status, reason: (err as Error).message },
          'request refused',
        );
      if (res) sendError(res, err);
      else if (upgrade && !upgrade.socket.destroyed) {
        if (isHijacked(upgrade.socket)) upgrade.socket.end();
        else writeRawError(upgrade.socket, err);
      }
    };
    try {
      if (res) res.on('close', () => ac.abort());
      if (upgrade) upgrade.socket.on('close', () => ac.abort());
      const url = new URL(req.url ?? '/', 'http://docker');
      const { version, path } = splitVersion(url.pathname);
      const method = req.method ?? 'GET';
      const match = matchRoute(routes, method, path);
      if (match.kind === 'not-found' || (upgrade && !match.route.hijack)) {
        throw new HttpError(404, 'page not found');
      }
      if (res && !match.route.hijack) {
        // The connection allows half-open (see httpServer): a client's FIN ends
        // streaming work (events, logs -f, stats), as Go's CloseNotify does for dockerd.
        const onEnd = () => ac.abort();
        req.socket.once('end', onEnd);
        res.once('close', () => req.socket.off('end', onEnd));
      }
      const ctx: Context = {
        method,
        path,
        apiVersion: version,
        params: match.params,
        query: url.searchParams,
        req,
        res,
        upgrade,
        signal: ac.signal,
        engine,
        log,
      };
      log.trace({ method, path }, 'request');
      await match.route.handler(ctx);
    } catch (err) {
      fail(err);
    }
  }

  // requestTimeout 0: image loads and cp uploads may stream for longer than Node's 5-minute default.
  // keepAliveTimeout 0: like dockerd, never drop idle keep-alive connections; docker-py and
  // compose pool them, and a close racing their next request surfaces as a client error.
  function httpServer(): Server {
    const server = createServer({ keepAlive: true, requestTimeout: 0, keepAliveTimeout: 0 }, (req, res) => {
      for (const [k, v] of Object.entries(commonHeaders())) res.setHeader(k, v);
      void dispatch(req, res, null);
    });
    // Old clients (API < 1.24-style, no Upgrade header) half-close after sending
    // an attach/exec start and read the raw stream until we close, as dockerd
    // allows. Node ends such a response at the client's FIN unless the server
    // allows half-open HTTP connections (a long-standing, undocumented switch).
    (server as Server & { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      hijacked.add(socket);
      socket.on('close', () => hijacked.delete(socket));
      socket.on('error', (err) => log.debug({ err }, 'hijacked connection error'));
      void dispatch(req, null, { socket, head });
    });
    server.on('clientError', (err, socket) => {
      log.debug({ err }, 'bad request from client');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    return server;
  }

  // One Node server per listen target (unix socket, TCP), all sharing the routes.
  const servers: Server[] = [];
  const socketPaths: string[] = [];
  let tcpPort: number | null = null;

  async function bind(server: Server, listen: (cb: () => void) => void): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      listen(() => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.push(server);
  }

  return {
    async listen(target) {
      const server = httpServer();
      if (typeof target === 'string') {
        await removeStaleSocket(target);
        await mkdir(dirname(target), { recursive: true });
        await bind(server, (cb) => server.listen(target, cb));
        socketPaths.push(target);
        await chmod(target, 0o660);
        log.info({ socket: target }, 'docker api listening');
        return;
      }
      await bind(server, (cb) => server.listen(target.port, target.host, cb));
      const a = server.address();
      tcpPort = a && typeof a === 'object' ? a.port : null;
      log.info({ host: target.host, port: tcpPort }, 'docker api listening');
    },
    port() {
      return tcpPort;
    },
    async close() {
      const closing = servers.splice(0).map((server) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        return closed;
      });
      for (const s of hijacked) s.destroy();
      await Promise.all(closing);
      for (const path of socketPaths.splice(0)) await unlink(path).catch(() => {});
      tcpPort = null;
    },
  };
}

/** A socket file nobody answers on is left over from a crash: remove it. A live one is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (!st) return;
  if (!st.isSocket()) throw new UnavailableError(`listening on ${path}: the path exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new UnavailableError(`listening on ${path}: another daemon is already serving it`);
  await unlink(path);
}
