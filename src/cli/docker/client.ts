import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  ConflictError,
  DroverError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../../lib/errors.ts';
import { type Http1Response, http1 } from './http1.ts';

/** The API version this client speaks (and the highest it asks for). */
export const apiVersion = '1.41';
export const defaultSocket = '/run/drover/docker.sock';

/** What the daemon said when it refused a request: the `cause` of the error the client throws. */
export class DaemonReply {
  readonly status: number;
  readonly message: string;
  /** Reported inside a 200 stream (pull, load, build): docker prints it without "Error response from daemon". */
  readonly inStream: boolean;
  constructor(status: number, message: string, inStream = false) {
    this.status = status;
    this.message = message;
    this.inStream = inStream;
  }
}

/** True when `err` carries a refusal from the daemon (print it as "Error response from daemon: ..."). */
export function isDaemonError(err: unknown): err is DroverError & { cause: DaemonReply } {
  return err instanceof DroverError && err.cause instanceof DaemonReply;
}

export type QueryValue = string | number | boolean | string[] | undefined;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** Sent as application/json. */
  json?: unknown;
  /** Streamed with Transfer-Encoding: chunked. */
  body?: Readable;
  headers?: Record<string, string>;
}

/** A hijacked attach/exec connection: raw bytes both ways (stdcopy frames unless TTY). */
export interface Hijacked {
  socket: Socket;
  /** Bytes that arrived with the 101 response, before the socket's first 'data'. */
  head: Buffer;
}

/** Resolves -H / $DOCKER_HOST to a socket path; only unix sockets are spoken. */
export function resolveHost(host: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const h = host || env.DOCKER_HOST || `unix://${defaultSocket}`;
  if (h.startsWith('unix://')) return h.slice('unix://'.length);
  if (h.startsWith('/')) return h;
  throw new InvalidError(
    `unsupported engine host ${h}: drover talks to the engine over a unix socket, use -H unix:///path/to/docker.sock`,
  );
}

export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else if (typeof value === 'boolean') params.append(key, value ? '1' : '0');
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Maps an HTTP status to the lib error class, as the Go client maps it to an error kind. */
export function daemonError(status: number, message: string, inStream = false): DroverError {
  const cause = new DaemonReply(status, message, inStream);
  if (status === 400) return new InvalidError(message, { cause });
  if (status === 401) return new UnauthorizedError(message, { cause });
  if (status === 403) return new ForbiddenError(message, { cause });
  if (status === 404) return new NotFoundError(message, { cause });
  if (status === 409) return new ConflictError(message, { cause });
  if (status === 503) return new UnavailableError(message, { cause });
  return new DroverError(message, { cause });
}

const baseHeaders = { Host: 'api.moby.localhost', 'User-Agent': 'Drover-Client' };

export async function readBody(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function errorMessage(body: Buffer, status: number): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: old daemons and proxies answer with plain text.
  }
  return text || `http status ${status}`;
}

/**
 * A Docker Engine API client over a unix socket, the same protocol the docker
 * CLI speaks: `HEAD /_ping` once, then versioned paths. Every request opens its
 * own connection (run needs several at once, and hijacked ones never return to
 * a pool). Refusals become lib errors whose `cause` is a DaemonReply; an
 * unreachable socket becomes an UnavailableError saying how to start the engine.
 */
export class DockerClient {
  readonly socketPath: string;
  #version: string | undefined;

  constructor(opts: { socketPath: string; version?: string }) {
    this.socketPath = opts.socketPath;
    this.#version = opts.version;
  }

  get hostUrl(): string {
    return `unix://${this.socketPath}`;
  }

  /** Negotiates the API version (HEAD /_ping, GET on 404/405); cached after the first call. */
  async ping(): Promise<string> {
    if (this.#version) return this.#version;
    let res = await this.#send('HEAD', '/_ping', {});
    if (res.statusCode === 404 || res.statusCode === 405) {
      res.resume();
      res = await this.#send('GET', '/_ping', {});
    }
    res.resume();
    const advertised = res.headers['api-version'];
    const v = typeof advertised === 'string' ? advertised : '1.24';
    this.#version = compareVersions(v, apiVersion) > 0 ? apiVersion : v;
    return this.#version;
  }

  /** Sends a request to a versioned path; resolves with the response once headers arrive (status < 400). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Http1Response> {
    const version = await this.ping();
    const res = await this.#send(method, `/v${version}${path}${buildQuery(opts.query)}`, opts);
    const status = res.statusCode;
    if (status >= 400) throw daemonError(status, errorMessage(await readBody(res), status));
    return res;
  }

  /** A request whose response body is JSON (or empty: undefined). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const body = await readBody(res);
    if (body.length === 0) return undefined as T;
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** Sends the request and discards any body. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    (await this.request(method, path, opts)).resume();
  }

  /** Upgrades a POST (attach, exec start) to a raw bidirectional stream. */
  async hijack(path: string, opts: { query?: Query; json?: unknown } = {}): Promise<Hijacked> {
    const version = await this.ping();
    const payload = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
    const res = await this.#connect({
      socketPath: this.socketPath,
      method: 'POST',
      path: `/v${version}${path}${buildQuery(opts.query)}`,
      headers: { ...baseHeaders, 'Content-Type': payload ? 'application/json' : 'text/plain' },
      body: payload ?? Buffer.alloc(0),
      upgrade: true,
    });
    if (res.upgraded) return res.upgraded;
    const body = await readBody(res);
    if (res.statusCode >= 400) throw daemonError(res.statusCode, errorMessage(body, res.statusCode));
    throw new UnavailableError(
      `the engine at ${this.hostUrl} did not upgrade the connection (status ${res.statusCode})`,
    );
  }

  #send(method: string, path: string, opts: RequestOptions): Promise<Http1Response> {
    const headers: Record<string, string> = { ...baseHeaders, ...opts.headers };
    let body: Buffer | Readable | undefined = opts.body;
    if (opts.json !== undefined) {
      body = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = 'application/json';
    } else if (!opts.body && method !== 'GET' && method !== 'HEAD') {
      body = Buffer.alloc(0);
    }
    return this.#connect({ socketPath: this.socketPath, method, path, headers, body });
  }

  async #connect(req: Parameters<typeof http1>[0]): Promise<Http1Response> {
    try {
      return await http1(req);
    } catch (err) {
      throw this.#connectError(err as Error);
    }
  }

  #connectError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES') {
      const hint =
        code === 'EACCES'
          ? 'permission denied; run as root or fix the socket permissions'
          : 'is `drover engine` running?';
      return new UnavailableError(`Cannot connect to the Drover engine at ${this.hostUrl}: ${hint}`, {
        cause: err,
      });
    }
    return new UnavailableError(`talking to the Drover engine at ${this.hostUrl}: ${err.message}`, {
      cause: err,
    });
  }
}

function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

/** Splits a stream into its non-empty lines (UTF-8 safe across chunk boundaries). */
export async function* textLines(res: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of res) {
    buf += decoder.write(chunk as Buffer);
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield line;
      nl = buf.indexOf('\n');
    }
  }
  buf += decoder.end();
  if (buf.trim()) yield buf.trim();
}

/** Parses a newline-delimited JSON stream (events, stats, progress) message by message. */
export async function* jsonLines<T>(res: Readable): AsyncGenerator<T> {
  for await (const line of textLines(res)) yield JSON.parse(line) as T;
}
