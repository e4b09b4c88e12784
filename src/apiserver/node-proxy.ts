/**
 * Pod subresources served by nodes (pods/log, exec, attach, portforward):
 * the request goes to the node the pod is bound to. The server's own node
 * (all-in-one) is called in-process through the handlers it registered;
 * any other node is reached on its kubelet port, found in the Node object
 * (InternalIP and status.daemonEndpoints.kubeletEndpoint.Port), over HTTPS
 * with the API server's kubelet client certificate, verifying the node's
 * serving certificate against the cluster CA. Ordinary requests are
 * forwarded and their answers streamed back; upgrades (WebSocket, SPDY) are
 * forwarded as raw bytes both ways once the request is written, so the
 * node's 101 answer and everything after it reach the client unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { isObject, type KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/logger.ts';
import type { SubresourceHandlers, SubresourceRequest } from './extensions.ts';
import type { ObjectStore } from './object-store.ts';
import { ApiError } from './status.ts';
import type { TypeRegistry } from './type-registry.ts';

export interface NodeProxyOptions {
  objects: ObjectStore;
  types: TypeRegistry;
  /** Handlers of the server's own node, called in-process. */
  local?: SubresourceHandlers;
  /** The server's own node; unset with `local`: every pod is taken as local (single-node tests). */
  localNode?: string;
  /** The API server's kubelet client credential and the cluster CA. */
  tls: { cert: string; key: string; ca: string };
  log: Logger;
}

export const nodeServedHttp = ['pods/log'];
export const nodeServedUpgrades = ['pods/exec', 'pods/attach', 'pods/portforward'];

type Target = { local: true } | { local: false; host: string; port: number; node: string };

/** The handlers to register at the API server's extension point. */
export function nodeSubresources(o: NodeProxyOptions): SubresourceHandlers {
  const podType = o.types.lookup('', 'v1', 'pods');
  const nodeType = o.types.lookup('', 'v1', 'nodes');
  if (!podType || !nodeType) throw new Error('pods or nodes type missing');

  async function target(r: SubresourceRequest): Promise<Target> {
    if (o.local && o.localNode === undefined) return { local: true };
    const pod = await o.objects.get(podType!, r.namespace, r.name);
    const nodeName = String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '');
    if (!nodeName) throw new ApiError(400, 'BadRequest', `pod ${r.name} does not have a host assigned`);
    if (nodeName === o.localNode && o.local) return { local: true };
    const node = await o.objects.get(nodeType!, undefined, nodeName).catch(() => undefined);
    const where = node && kubeletAddress(node);
    if (!where)
      throw new ApiError(503, 'ServiceUnavailable', `node "${nodeName}" has no reachable kubelet endpoint`);
    return { local: false, node: nodeName, ...where };
  }

  const http: NonNullable<SubresourceHandlers['http']> = {};
  for (const key of nodeServedHttp) {
    http[key] = async (r, res) => {
      const t = await target(r);
      if (t.local) {
        const h = o.local?.http?.[key];
        if (!h) throw new ApiError(404, 'NotFound', `${key} is not served`);
        return h(r, res);
      }
      await forwardRequest(r.req, res, t, o);
    };
  }
  const upgrade: NonNullable<SubresourceHandlers['upgrade']> = {};
  for (const key of nodeServedUpgrades) {
    upgrade[key] = async (r, socket, head) => {
      const t = await target(r).catch((err: unknown) => {
        refuse(socket, err);
        return undefined;
      });
      if (!t) return;
      if (t.local) {
        const h = o.local?.upgrade?.[key];
        if (!h) return refuse(socket, new ApiError(404, 'NotFound', `${key} is not served`));
        return h(r, socket, head);
      }
      forwardUpgrade(r.req, socket, head, t, o);
    };
  }
  return { http, upgrade };
}

/** InternalIP and kubelet port of a Node, if it has both. */
export function kubeletAddress(node: KubeObject): { host: string; port: number } | undefined {
  const status = isObject(node.status) ? node.status : {};
  const addresses = Array.isArray(status.addresses) ? status.addresses : [];
  const ip = addresses.find((a) => isObject(a) && a.type === 'InternalIP') as
    | { address?: string }
    | undefined;
  const endpoints = isObject(status.daemonEndpoints) ? status.daemonEndpoints : {};
  const kubelet = isObject(endpoints.kubeletEndpoint) ? endpoints.kubeletEndpoint : {};
  const port = Number(kubelet.Port ?? 0);
  if (!ip?.address || !port) return undefined;
  return { host: ip.address, port };
}

function refuse(socket: Duplex, err: unknown): void {
  const e = err instanceof ApiError ? err : new ApiError(502, 'BadGateway', String(err));
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: e.reason,
    code: e.code,
  });
  socket.end(
    `HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The node's serving certificate must be the one the cluster CA issued to
 * that node (CN=system:node:<name>): another node's would verify too.
 */
function nodeIdentity(node: string): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const cn = cert.subject?.CN;
    return cn === `system:node:${node}`
      ? undefined
      : new Error(`the kubelet answered as ${JSON.stringify(cn)}, not system:node:${node}`);
  };
}

/** Headers that describe the client's hop or its credentials never reach the node. */
function forwardedHeaders(req: IncomingMessage, upgrade: boolean): Record<string, string | string[]> {
  const drop = new Set(['authorization', 'host', 'proxy-authorization', 'keep-alive', 'transfer-encoding']);
  if (!upgrade) drop.add('connection').add('upgrade');
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !drop.has(k)) out[k] = v;
  return out;
}

function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  t: { host: string; port: number; node: string },
  o: NodeProxyOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = https.request(
      {
        host: t.host,
        port: t.port,
        method: req.method,
        path: req.url,
        headers: forwardedHeaders(req, false),
        ...o.tls,
        checkServerIdentity: nodeIdentity(t.node),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', () => resolve());
      },
    );
    // The client went away (kubectl logs -f stopped): stop the node's stream too.
    res.on('close', () => out.destroy());
    out.on('error', (err) => {
      if (res.headersSent) return resolve();
      reject(new ApiError(502, 'BadGateway', `reaching node "${t.node}": ${err.message}`));
    });
    req.pipe(out);
  });
}

function forwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  t: { host: string; port: number; node: string },
  o: NodeProxyOptions,
): void {
  const node = tls.connect({
    host: t.host,
    port: t.port,
    ...o.tls,
    checkServerIdentity: nodeIdentity(t.node),
  });
  let connected = false;
  node.once('secureConnect', () => {
    connected = true;
    const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, `Host: ${t.host}:${t.port}`];
    for (const [k, v] of Object.entries(forwardedHeaders(req, true)))
      for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
    node.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) node.write(head);
    socket.pipe(node);
    node.pipe(socket);
  });
  node.on('error', (err) => {
    if (!connected)
      refuse(socket, new ApiError(502, 'BadGateway', `reaching node "${t.node}": ${err.message}`));
    else socket.destroy();
  });
  socket.on('error', () => node.destroy());
  socket.on('close', () => node.destroy());
}
