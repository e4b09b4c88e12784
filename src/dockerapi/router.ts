/**
 * Routing: strips and checks the `/v1.xx` prefix, matches method + path to a
 * handler, and hands it a Context. Hijackable routes (attach, exec start) are
 * reached both through Node's 'upgrade' event and as plain requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { EngineApi } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { parseBool, parseFilters, parseIntParam } from './filters.ts';
import { API_VERSION, HttpError, MIN_API_VERSION } from './respond.ts';

export interface Context {
  method: string;
  /** The path without its version prefix, e.g. `/containers/abc/json`. */
  path: string;
  /** The API version the client asked for (the path prefix), else ours. */
  apiVersion: string;
  params: Record<string, string>;
  query: URLSearchParams;
  req: IncomingMessage;
  /** Null when the request arrived as an upgrade (then `upgrade` is set). */
  res: ServerResponse | null;
  upgrade: { socket: Socket; head: Buffer } | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  engine: EngineApi;
  log: Logger;
}

export type Handler = (ctx: Context) => Promise<void>;

export interface Route {
  method: string;
  /** `/containers/{id}/json`; `{name*}` matches across slashes (image names). */
  path: string;
  handler: Handler;
  /** Accepts `Upgrade: tcp` (attach, exec start). */
  hijack?: boolean;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

export function compileRoutes(routes: Route[]): CompiledRoute[] {
  return routes.map((r) => {
    const names: string[] = [];
    const source = r.path.replace(/\{(\w+)(\*?)\}|[.+?^$()[\]\\|]/g, (m, name: string, star: string) => {
      if (!name) return `\\${m}`;
      names.push(name);
      return star ? '(.+)' : '([^/]+)';
    });
    return { ...r, regex: new RegExp(`^${source}/?$`), names };
  });
}

export function versionLess(a: string, b: string): boolean {
  const [amaj = 0, amin = 0] = a.split('.').map(Number);
  const [bmaj = 0, bmin = 0] = b.split('.').map(Number);
  return amaj < bmaj || (amaj === bmaj && amin < bmin);
}

/** Splits `/v1.41/x` into version and path; throws Docker's too-new / too-old errors. */
export function splitVersion(pathname: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(pathname);
  if (!m) return { version: API_VERSION, path: pathname };
  const version = m[1] as string;
  if (versionLess(API_VERSION, version)) {
    throw new HttpError(
      400,
      `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  if (versionLess(version, MIN_API_VERSION)) {
    throw new HttpError(
      400,
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
      { plain: true },
    );
  }
  return { version, path: m[2] as string };
}

export type Match =
  | { kind: 'found'; route: CompiledRoute; params: Record<string, string> }
  | { kind: 'not-found' };

export function matchRoute(routes: CompiledRoute[], method: string, path: string): Match {
  const m = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
  for (const wanted of m) {
    for (const r of routes) {
      if (r.method !== wanted) continue;
      const hit = r.regex.exec(path);
      if (!hit) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        const raw = hit[i + 1] ?? '';
        try {
          params[n] = decodeURIComponent(raw);
        } catch (err) {
          throw new InvalidError(`invalid escape in path parameter ${n}: ${raw}`, { cause: err });
        }
      });
      return { kind: 'found', route: r, params };
    }
  }
  return { kind: 'not-found' };
}

// Query helpers handlers use; they throw InvalidError (400) on bad values.
export const q = {
  bool: (ctx: Context, key: string, fallback = false) => parseBool(ctx.query.get(key), fallback),
  int: (ctx: Context, key: string) => parseIntParam(key, ctx.query.get(key)),
  str: (ctx: Context, key: string) => ctx.query.get(key) ?? undefined,
  filters: (ctx: Context) => parseFilters(ctx.query.get('filters')),
};

export function param(ctx: Context, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new InvalidError(`missing path parameter ${name}`);
  return v;
}

/** The whole request body (Node has already undone chunked transfer encoding). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a JSON body; an empty body is `{}`. Bad JSON is a 400 saying so. */
export async function readJson<T extends object>(ctx: Context): Promise<T> {
  return parseJsonBody<T>(await readBody(ctx.req));
}

export function parseJsonBody<T extends object>(body: Buffer): T {
  const text = body.toString('utf8').trim();
  if (text === '' || text === 'null') return {} as T;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidError(`invalid JSON in request body: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidError('invalid request body: expected a JSON object');
  }
  return value as T;
}
