/**
 * Network endpoints: list, inspect, create, rm, connect, disconnect, prune.
 */
import type { EndpointSettings, NetworkCreateRequest } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';
import { sendEmpty, sendJson } from './respond.ts';
import { type Context, param, q, type Route, readJson } from './router.ts';

async function list(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.listNetworks(q.filters(ctx)));
}

async function inspect(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.inspectNetwork(param(ctx, 'id')));
}

async function create(ctx: Context): Promise<void> {
  const body = await readJson<NetworkCreateRequest>(ctx);
  if (typeof body.Name !== 'string' || body.Name === '')
    throw new InvalidError('network name must not be empty');
  const req: NetworkCreateRequest = { ...body };
  if (!req.Driver) req.Driver = 'bridge';
  const { Id, Warning } = await ctx.engine.createNetwork(req);
  sendJson(ctx.res!, 201, { Id, Warning: Warning ?? '' });
}

async function remove(ctx: Context): Promise<void> {
  await ctx.engine.removeNetwork(param(ctx, 'id'));
  sendEmpty(ctx.res!, 204);
}

async function connect(ctx: Context): Promise<void> {
  const body = await readJson<{ Container?: string; EndpointConfig?: EndpointSettings | null }>(ctx);
  if (!body.Container) throw new InvalidError('container name or id must be given to connect');
  await ctx.engine.connectNetwork(param(ctx, 'id'), body.Container, body.EndpointConfig ?? undefined);
  sendEmpty(ctx.res!, 200);
}

async function disconnect(ctx: Context): Promise<void> {
  const body = await readJson<{ Container?: string; Force?: boolean }>(ctx);
  if (!body.Container) throw new InvalidError('container name or id must be given to disconnect');
  await ctx.engine.disconnectNetwork(param(ctx, 'id'), body.Container, body.Force === true);
  sendEmpty(ctx.res!, 200);
}

async function prune(ctx: Context): Promise<void> {
  const report = await ctx.engine.pruneNetworks(q.filters(ctx));
  sendJson(ctx.res!, 200, { NetworksDeleted: report.deleted.length > 0 ? report.deleted : null });
}

export const networkRoutes: Route[] = [
  { method: 'GET', path: '/networks', handler: list },
  { method: 'POST', path: '/networks/create', handler: create },
  { method: 'POST', path: '/networks/prune', handler: prune },
  { method: 'GET', path: '/networks/{id}', handler: inspect },
  { method: 'DELETE', path: '/networks/{id}', handler: remove },
  { method: 'POST', path: '/networks/{id}/connect', handler: connect },
  { method: 'POST', path: '/networks/{id}/disconnect', handler: disconnect },
];
