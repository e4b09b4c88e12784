/**
 * Volume endpoints: list (`{"Volumes":[...],"Warnings":null}`), create,
 * inspect, rm, prune.
 */
import type { VolumeCreateRequest } from '../engine/types.ts';
import { sendEmpty, sendJson } from './respond.ts';
import { type Context, param, q, type Route, readJson } from './router.ts';

async function list(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, { Volumes: await ctx.engine.listVolumes(q.filters(ctx)), Warnings: null });
}

async function create(ctx: Context): Promise<void> {
  const body = await readJson<VolumeCreateRequest>(ctx);
  sendJson(ctx.res!, 201, await ctx.engine.createVolume({ ...body, Driver: body.Driver || 'local' }));
}

async function inspect(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.inspectVolume(param(ctx, 'name')));
}

async function remove(ctx: Context): Promise<void> {
  await ctx.engine.removeVolume(param(ctx, 'name'), { force: q.bool(ctx, 'force') });
  sendEmpty(ctx.res!, 204);
}

async function prune(ctx: Context): Promise<void> {
  const report = await ctx.engine.pruneVolumes(q.filters(ctx));
  sendJson(ctx.res!, 200, { VolumesDeleted: report.deleted, SpaceReclaimed: report.spaceReclaimed });
}

export const volumeRoutes: Route[] = [
  { method: 'GET', path: '/volumes', handler: list },
  { method: 'POST', path: '/volumes/create', handler: create },
  { method: 'POST', path: '/volumes/prune', handler: prune },
  { method: 'GET', path: '/volumes/{name}', handler: inspect },
  { method: 'DELETE', path: '/volumes/{name}', handler: remove },
];
