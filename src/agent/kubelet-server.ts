/**
 * The agent's own HTTPS port (the kubelet's 10250) for a joined node: the
 * API server proxies `pods/log`, `pods/exec`, `pods/attach` and
 * `pods/portforward` here, with the same paths and query it received
 * (`/api/v1/namespaces/<ns>/pods/<name>/<subresource>`), and the
 * handlers are the ones the all-in-one server calls in-process.
 *
 * Only the API server gets in: the client must present a certificate of the
 * cluster CA whose organisation is `system:masters` (the API server's
 * kubelet client credential). Nodes' own certificates (`system:nodes`) and
 * everyone else are refused.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../lib/logger.ts';
import type { AgentSubresources } from './subresources.ts';

export interface KubeletServerOptions {
  handlers: AgentSubresources;
  /** Address to listen on (default all). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  tls: { cert: string; key: string; ca: string };
  log: Logger;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

export const allowedGroup = 'system:masters';

const route = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/([^/]+)$/;

function isApiServer(socket: TLSSocket): boolean {
  if (!socket.authorized) return false;
  const o = socket.getPeerCertificate()?.subject?.O;
  const groups = Array.isArray(o) ? o : o ? [o] : [];
  return groups.includes(allowedGroup);
}

function status(code: number, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code });
}

function parse(req: IncomingMessage): { namespace: string; name: string; key: string; url: URL } | undefined {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  const m = route.exec(url.pathname);
  if (!m) return undefined;
  return {
    namespace: decodeURIComponent(m[1] ?? ''),
    name: decodeURIComponent(m[2] ?? ''),
    key: `pods/${m[3] ?? ''}`,
    url,
  };
}

export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const send = (code: number, message: string) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(status(code, message));
    };
    if (!isApiServer(req.socket as TLSSocket)) return send(403, 'only the API server may use this port');
    const r = parse(req);
    const handler = r ? o.handlers.http[r.key] : undefined;
    if (!r || !handler) return send(404, `${req.url ?? ''} is not served here`);
    handler({ namespace: r.namespace, name: r.name, url: r.url }, res).catch((err: unknown) => {
      o.log.warn({ err, url: req.url }, 'kubelet request failed');
      if (!res.headersSent) send(500, String(err));
      else res.destroy();
    });
  };
  const server = https.createServer(
    { cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true },
    onRequest,
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (code: number, message: string) => {
      const body = status(code, message);
      socket.end(
        `HTTP/1.1 ${code} ${code === 403 ? 'Forbidden' : 'Not Found'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (!isApiServer(req.socket as TLSSocket)) return refuse(403, 'only the API server may use this port');
    const r = parse(req);
    const handler = r ? o.handlers.upgrade[r.key] : undefined;
    if (!r || !handler) return refuse(404, `${req.url ?? ''} is not served here`);
    handler({ req, url: r.url, namespace: r.namespace, name: r.name }, socket, head).catch((err: unknown) => {
      o.log.warn({ err, url: req.url }, 'kubelet upgrade failed');
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  o.log.info({ port }, 'kubelet port listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
