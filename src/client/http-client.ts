import http from 'node:http';
import https from 'node:https';
import { DroverError, UnavailableError } from '../lib/errors.ts';
import type { Client, GetOptions } from './client.ts';
import { errorFromStatus } from './errors.ts';
import type { Connection } from './kubeconfig.ts';
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  Resource,
  Status,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './types.ts';
import { apiVersionOf } from './types.ts';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface HttpClientOptions {
  /** Per-request timeout for everything but watch (default 30 s). */
  timeoutMs?: number;
  /** Keep-alive sockets per host (default 32). */
  maxSockets?: number;
}

interface Call {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  what: string;
}

/**
 * Client over HTTPS (or HTTP) to a Kubernetes API server, JSON on the wire, one
 * keep-alive agent per client. Authenticates with the Connection's client
 * certificate or bearer token.
 */
export class HttpClient implements Client {
  readonly #conn: Connection;
  readonly #agent: http.Agent;
  /** Watches hold a connection each for minutes: their own agent, unlimited, so they never starve requests. */
  readonly #watchAgent: http.Agent;
  readonly #timeoutMs: number;
  readonly #base: URL;

  constructor(conn: Connection, opts: HttpClientOptions = {}) {
    this.#conn = conn;
    this.#base = new URL(conn.server);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    const make = (keepAlive: boolean, maxSockets: number) =>
      this.#base.protocol === 'http:'
        ? new http.Agent({ keepAlive, maxSockets })
        : new https.Agent({
            keepAlive,
            maxSockets,
            ca: conn.ca,
            cert: conn.cert,
            key: conn.key,
            rejectUnauthorized: !conn.insecureSkipTlsVerify,
          });
    this.#agent = make(true, opts.maxSockets ?? 32);
    this.#watchAgent = make(false, Number.POSITIVE_INFINITY);
  }

  /** `/api/v1/namespaces/ns/pods/name/sub`: the REST path of a resource, object or subresource. */
  static pathOf(r: Resource, namespace?: string, name?: string, subresource?: string): string {
    let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${r.resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  async get<T extends KubeObject>(r: Resource, name: string, opts: GetOptions = {}): Promise<T> {
    const path = HttpClient.pathOf(r, opts.namespace, name);
    return this.#json<T>({
      method: 'GET',
      path,
      signal: opts.signal,
      what: `getting ${what(r, opts.namespace, name)}`,
    });
  }

  async list<T extends KubeObject>(r: Resource, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const list = await this.#json<ObjectList<T>>({
      method: 'GET',
      path: HttpClient.pathOf(r, opts.namespace),
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
      },
      signal: opts.signal,
      what: `listing ${what(r, opts.namespace)}`,
    });
    list.items ??= [];
    // Lists omit the items' kind/apiVersion on the wire; callers expect them filled.
    for (const item of list.items) {
      item.apiVersion ??= apiVersionOf(r);
      item.kind ??= r.kind;
    }
    return list;
  }

  async create<T extends KubeObject>(r: Resource, obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = obj.metadata.namespace ?? opts.namespace;
    const body = { apiVersion: apiVersionOf(r), kind: r.kind, ...obj };
    return this.#json<T>({
      method: 'POST',
      path: HttpClient.pathOf(r, ns),
      query: writeQuery(opts),
      body,
      signal: opts.signal,
      what: `creating ${what(r, ns, obj.metadata.name ?? obj.metadata.generateName)}`,
    });
  }

  update<T extends KubeObject>(r: Resource, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#put(r, obj, undefined, opts);
  }

  updateStatus<T extends KubeObject>(r: Resource, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#put(r, obj, 'status', opts);
  }

  async #put<T extends KubeObject>(
    r: Resource,
    obj: T,
    sub: string | undefined,
    opts: WriteOptions,
  ): Promise<T> {
    const ns = obj.metadata.namespace ?? opts.namespace;
    const name = obj.metadata.name ?? '';
    return this.#json<T>({
      method: 'PUT',
      path: HttpClient.pathOf(r, ns, name, sub),
      query: writeQuery(opts),
      body: { apiVersion: apiVersionOf(r), kind: r.kind, ...obj },
      signal: opts.signal,
      what: `updating ${what(r, ns, name)}${sub ? `/${sub}` : ''}`,
    });
  }

  async patch<T extends KubeObject>(
    r: Resource,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.#json<T>({
      method: 'PATCH',
      path: HttpClient.pathOf(r, opts.namespace, name, opts.subresource),
      query: { ...writeQuery(opts), force: opts.force },
      // YAML is a superset of JSON, so apply patches go as JSON too.
      body: patch,
      contentType: patchContentTypes[type],
      signal: opts.signal,
      what: `patching ${what(r, opts.namespace, name)}`,
    });
  }

  async delete<T extends KubeObject>(
    r: Resource,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<T | undefined> {
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: opts.propagationPolicy,
      gracePeriodSeconds: opts.gracePeriodSeconds,
      preconditions: opts.preconditions,
      dryRun: opts.dryRun ? ['All'] : undefined,
    };
    const res = await this.#json<KubeObject | Status>({
      method: 'DELETE',
      path: HttpClient.pathOf(r, opts.namespace, name),
      body,
      signal: opts.signal,
      what: `deleting ${what(r, opts.namespace, name)}`,
    });
    return res.kind === 'Status' || !('metadata' in res) ? undefined : (res as T);
  }

  async getSubresource<T>(r: Resource, name: string, sub: string, opts: GetOptions = {}): Promise<T> {
    const path = HttpClient.pathOf(r, opts.namespace, name, sub);
    return this.#json<T>({
      method: 'GET',
      path,
      signal: opts.signal,
      what: `getting ${what(r, opts.namespace, name)}/${sub}`,
    });
  }

  createSubresource<T>(
    r: Resource,
    name: string,
    sub: string,
    body: KubeObject,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#sub<T>('POST', r, name, sub, body, opts);
  }

  updateSubresource<T>(
    r: Resource,
    name: string,
    sub: string,
    body: KubeObject,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#sub<T>('PUT', r, name, sub, body, opts);
  }

  #sub<T>(
    method: string,
    r: Resource,
    name: string,
    sub: string,
    body: KubeObject,
    opts: WriteOptions,
  ): Promise<T> {
    const ns = opts.namespace ?? body.metadata?.namespace;
    return this.#json<T>({
      method,
      path: HttpClient.pathOf(r, ns, name, sub),
      query: writeQuery(opts),
      body,
      signal: opts.signal,
      what: `${method === 'POST' ? 'creating' : 'updating'} ${what(r, ns, name)}/${sub}`,
    });
  }

  async *watch<T extends KubeObject>(r: Resource, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const desc = `watching ${what(r, opts.namespace)}`;
    const res = await this.#send({
      method: 'GET',
      path: HttpClient.pathOf(r, opts.namespace),
      query: {
        watch: 1,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks,
        timeoutSeconds: opts.timeoutSeconds,
      },
      signal: opts.signal,
      what: desc,
    }).catch((err: unknown) => {
      if (opts.signal?.aborted) return undefined;
      throw err;
    });
    if (!res) return;
    if ((res.statusCode ?? 0) >= 300) throw await responseError(res, desc);
    res.setEncoding('utf8');
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: KubeObject & Status };
          if (ev.type === 'ERROR') throw errorFromStatus(ev.object.code ?? 500, ev.object, desc);
          ev.object.apiVersion ??= apiVersionOf(r);
          ev.object.kind ??= r.kind;
          yield ev as WatchEvent<T>;
        }
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      if (err instanceof DroverError) throw err;
      throw new UnavailableError(`${desc}: ${(err as Error).message}`, { cause: err });
    } finally {
      res.destroy();
    }
  }

  close(): void {
    this.#agent.destroy();
    this.#watchAgent.destroy();
  }

  async #json<T>(call: Call): Promise<T> {
    const res = await this.#send(call);
    if ((res.statusCode ?? 0) >= 300) throw await responseError(res, call.what);
    const text = await readBody(res);
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch (err) {
      throw new UnavailableError(`${call.what}: decoding the response: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  #send(call: Call): Promise<http.IncomingMessage> {
    const url = new URL(call.path, this.#base);
    for (const [k, v] of Object.entries(call.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const isWatch = url.searchParams.has('watch');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#conn.token) headers.authorization = `Bearer ${this.#conn.token}`;
    if (this.#conn.userAgent) headers['user-agent'] = this.#conn.userAgent;
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    if (payload !== undefined) {
      headers['content-type'] = call.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method: call.method,
          headers,
          agent: isWatch ? this.#watchAgent : this.#agent,
          signal: call.signal,
        },
        resolve,
      );
      if (!isWatch) {
        req.setTimeout(this.#timeoutMs, () =>
          req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)),
        );
      } else {
        // A watch may be silent for minutes, so no idle timeout; but the headers
        // must come, and TCP keep-alive notices a peer that vanished.
        const t = setTimeout(
          () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
        req.once('response', () => clearTimeout(t));
        req.once('close', () => clearTimeout(t));
        req.once('socket', (sock) => sock.setKeepAlive(true, 15_000));
      }
      req.on('error', (err) => reject(new UnavailableError(`${call.what}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }
}

function what(r: Resource, namespace?: string, name?: string): string {
  const gr = r.group ? `${r.resource}.${r.group}` : r.resource;
  if (name === undefined) return namespace ? `${gr} in ${namespace}` : gr;
  return `${gr} ${namespace ? `${namespace}/` : ''}${name}`;
}

function writeQuery(opts: WriteOptions): Record<string, string | undefined> {
  return { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager };
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

async function responseError(res: http.IncomingMessage, desc: string): Promise<Error> {
  const code = res.statusCode ?? 500;
  const text = await readBody(res).catch(() => '');
  let status: Status;
  try {
    status = JSON.parse(text) as Status;
  } catch {
    status = { message: text.trim() || res.statusMessage || `http ${code}`, code };
  }
  return errorFromStatus(code, status, desc);
}
