/**
 * System endpoints: _ping, version, info, system/df, events, auth, and the
 * plugin probe `docker inspect` makes.
 */
import { NotFoundError } from '../lib/errors.ts';
import { parseTime } from './filters.ts';
import { API_VERSION, MIN_API_VERSION, sendJson, startStream, writeChunk } from './respond.ts';
import { type Context, param, q, type Route, readJson } from './router.ts';

async function ping(ctx: Context): Promise<void> {
  const res = ctx.res!;
  const body = ctx.method === 'HEAD' ? '' : 'OK';
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function version(ctx: Context): Promise<void> {
  const v = await ctx.engine.version();
  // The API layer owns the API version: docker-py reads ApiVersion from here.
  sendJson(ctx.res!, 200, {
    Os: 'linux',
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    ...v,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
  });
}

async function info(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.info());
}

async function diskUsage(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.diskUsage());
}

async function events(ctx: Context): Promise<void> {
  const since = parseTime('since', ctx.query.get('since'));
  const until = parseTime('until', ctx.query.get('until'));
  const filters = q.filters(ctx);
  const res = ctx.res!;
  const iter = ctx.engine.events({ since, until, filters, signal: ctx.signal });
  startStream(res, 'application/json');
  for await (const ev of iter) {
    if (!(await writeChunk(res, JSON.stringify(ev) + '\n'))) break;
  }
  if (!res.destroyed) res.end();
}

async function auth(ctx: Context): Promise<void> {
  await readJson(ctx);
  // No registry client yet: accept credentials so the CLI can store them.
  sendJson(ctx.res!, 200, { IdentityToken: '', Status: 'Login Succeeded' });
}

async function buildPrune(ctx: Context): Promise<void> {
  // No build cache yet; `docker system prune` calls this after the other prunes.
  sendJson(ctx.res!, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
}

async function plugin(ctx: Context): Promise<void> {
  throw new NotFoundError(`plugin "${param(ctx, 'name')}" not found`);
}

export const systemRoutes: Route[] = [
  { method: 'GET', path: '/_ping', handler: ping },
  { method: 'HEAD', path: '/_ping', handler: ping },
  { method: 'GET', path: '/version', handler: version },
  { method: 'GET', path: '/info', handler: info },
  { method: 'GET', path: '/system/df', handler: diskUsage },
  { method: 'GET', path: '/events', handler: events },
  { method: 'POST', path: '/auth', handler: auth },
  { method: 'GET', path: '/plugins/{name*}/json', handler: plugin },
  { method: 'POST', path: '/build/prune', handler: buildPrune },
];
