/**
 * Container endpoints with plain request/response bodies: create, list,
 * inspect, lifecycle verbs, rename, rm, resize, top, changes, prune, commit.
 * The streaming ones (wait, logs, attach, stats, archive, export) are in
 * containers-streams.ts.
 */
import type {
  ContainerConfig,
  ContainerCreateRequest,
  ContainerInspect,
  HostConfig,
} from '../engine/types.ts';
import { ConflictError, InvalidError } from '../lib/errors.ts';
import { HttpError, sendEmpty, sendJson } from './respond.ts';
import { type Context, param, q, type Route, readBody, readJson } from './router.ts';

const namePattern = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

function stringList(field: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  // The daemon accepts a bare string and makes it a one-element list.
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new InvalidError(`invalid ${field}: expected a list of strings`);
}

/** The create body is Config's fields at top level plus HostConfig and NetworkingConfig. */
export function toCreateRequest(
  name: string | undefined,
  body: Record<string, unknown>,
): ContainerCreateRequest {
  const { HostConfig: hostConfig, NetworkingConfig: networking, ...rest } = body;
  const config = rest as ContainerConfig & Record<string, unknown>;
  const cmd = stringList('Cmd', config.Cmd);
  const entrypoint = stringList('Entrypoint', config.Entrypoint);
  if (cmd) config.Cmd = cmd;
  else delete config.Cmd;
  if (entrypoint) config.Entrypoint = entrypoint;
  else delete config.Entrypoint;
  if (config.Env === null) delete config.Env;
  if (typeof config.Image !== 'string' || config.Image === '') throw new InvalidError('No image specified');
  if (hostConfig !== undefined && (typeof hostConfig !== 'object' || Array.isArray(hostConfig))) {
    throw new InvalidError('invalid HostConfig: expected an object');
  }
  const req: ContainerCreateRequest = { config };
  if (name) req.name = name.replace(/^\//, '');
  if (hostConfig) req.hostConfig = hostConfig as HostConfig;
  if (networking && typeof networking === 'object') {
    req.networkingConfig = networking as ContainerCreateRequest['networkingConfig'];
  }
  return req;
}

async function create(ctx: Context): Promise<void> {
  const name = q.str(ctx, 'name');
  if (name && !namePattern.test(name)) {
    throw new InvalidError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const req = toCreateRequest(name, await readJson(ctx));
  const created = await ctx.engine.createContainer(req);
  sendJson(ctx.res!, 201, { Id: created.Id, Warnings: created.Warnings ?? [] });
}

async function list(ctx: Context): Promise<void> {
  const limit = q.int(ctx, 'limit');
  const items = await ctx.engine.listContainers({
    all: q.bool(ctx, 'all'),
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    size: q.bool(ctx, 'size'),
    filters: q.filters(ctx),
  });
  sendJson(ctx.res!, 200, items);
}

async function inspect(ctx: Context): Promise<void> {
  const c = await ctx.engine.inspectContainer(param(ctx, 'id'), { size: q.bool(ctx, 'size') });
  sendJson(ctx.res!, 200, withClientDefaults(c));
}

/**
 * Fields clients dereference without checking: docker-py's run() reads
 * HostConfig.LogConfig.Type, `docker port` panics without NetworkSettings.Ports.
 */
export function withClientDefaults(c: ContainerInspect): ContainerInspect {
  const hostConfig = {
    ...c.HostConfig,
    LogConfig: { Type: 'json-file', Config: {}, ...c.HostConfig?.LogConfig },
  };
  if (hostConfig.LogConfig.Type === '') hostConfig.LogConfig.Type = 'json-file';
  const ns = c.NetworkSettings ?? ({} as Partial<ContainerInspect['NetworkSettings']>);
  return {
    ...c,
    HostConfig: hostConfig,
    Mounts: c.Mounts ?? [],
    NetworkSettings: {
      ...ns,
      Ports: ns.Ports ?? {},
      Networks: ns.Networks ?? {},
    } as ContainerInspect['NetworkSettings'],
  };
}

/** Docker answers a no-op start/stop with 304; the engine reports it as a conflict. */
async function notModifiedIf(ctx: Context, err: unknown, running: boolean): Promise<never> {
  if (err instanceof ConflictError) {
    const c = await ctx.engine.inspectContainer(param(ctx, 'id')).catch(() => null);
    if (c && c.State.Running === running) throw new HttpError(304, '');
  }
  throw err;
}

async function start(ctx: Context): Promise<void> {
  await readBody(ctx.req);
  try {
    await ctx.engine.startContainer(param(ctx, 'id'));
  } catch (err) {
    // A failed start of an AutoRemove container removes it: the engine's job, as dockerd's.
    await notModifiedIf(ctx, err, true);
  }
  sendEmpty(ctx.res!, 204);
}

function stopOptions(ctx: Context): { timeout?: number; signal?: string } {
  const timeout = q.int(ctx, 't');
  const signal = q.str(ctx, 'signal');
  return { ...(timeout !== undefined ? { timeout } : {}), ...(signal ? { signal } : {}) };
}

async function stop(ctx: Context): Promise<void> {
  try {
    await ctx.engine.stopContainer(param(ctx, 'id'), stopOptions(ctx));
  } catch (err) {
    await notModifiedIf(ctx, err, false);
  }
  sendEmpty(ctx.res!, 204);
}

async function restart(ctx: Context): Promise<void> {
  await ctx.engine.restartContainer(param(ctx, 'id'), stopOptions(ctx));
  sendEmpty(ctx.res!, 204);
}

async function kill(ctx: Context): Promise<void> {
  await ctx.engine.killContainer(param(ctx, 'id'), q.str(ctx, 'signal'));
  sendEmpty(ctx.res!, 204);
}

async function pause(ctx: Context): Promise<void> {
  await ctx.engine.pauseContainer(param(ctx, 'id'));
  sendEmpty(ctx.res!, 204);
}

async function unpause(ctx: Context): Promise<void> {
  await ctx.engine.unpauseContainer(param(ctx, 'id'));
  sendEmpty(ctx.res!, 204);
}

async function rename(ctx: Context): Promise<void> {
  const name = q.str(ctx, 'name');
  if (!name) throw new InvalidError('Neither old nor new names may be empty');
  if (!namePattern.test(name)) {
    throw new InvalidError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  await ctx.engine.renameContainer(param(ctx, 'id'), name.replace(/^\//, ''));
  sendEmpty(ctx.res!, 204);
}

async function remove(ctx: Context): Promise<void> {
  await ctx.engine.removeContainer(param(ctx, 'id'), {
    force: q.bool(ctx, 'force'),
    volumes: q.bool(ctx, 'v'),
  });
  sendEmpty(ctx.res!, 204);
}

async function resize(ctx: Context): Promise<void> {
  const h = q.int(ctx, 'h') ?? 0;
  const w = q.int(ctx, 'w') ?? 0;
  await ctx.engine.resizeContainer(param(ctx, 'id'), h, w);
  sendEmpty(ctx.res!, 200);
}

async function top(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.topContainer(param(ctx, 'id'), q.str(ctx, 'ps_args')));
}

async function changes(ctx: Context): Promise<void> {
  const items = await ctx.engine.containerChanges(param(ctx, 'id'));
  sendJson(ctx.res!, 200, items.length > 0 ? items : null);
}

async function prune(ctx: Context): Promise<void> {
  const report = await ctx.engine.pruneContainers(q.filters(ctx));
  sendJson(ctx.res!, 200, {
    ContainersDeleted: report.deleted.length > 0 ? report.deleted : null,
    SpaceReclaimed: report.spaceReclaimed,
  });
}

async function update(ctx: Context): Promise<void> {
  await readBody(ctx.req);
  throw new HttpError(
    501,
    `updating the resources of a running container (${param(ctx, 'id')}) is not supported yet`,
  );
}

async function commit(ctx: Context): Promise<void> {
  const container = q.str(ctx, 'container');
  if (!container) throw new InvalidError('missing container parameter');
  const body = await readJson<ContainerConfig>(ctx);
  const result = await ctx.engine.commitContainer(container, {
    repo: q.str(ctx, 'repo'),
    tag: q.str(ctx, 'tag'),
    comment: q.str(ctx, 'comment'),
    author: q.str(ctx, 'author'),
    changes: ctx.query.getAll('changes').filter((c) => c !== ''),
    pause: q.bool(ctx, 'pause', true),
    ...(Object.keys(body).length > 0 ? { config: body } : {}),
  });
  sendJson(ctx.res!, 201, { Id: result.Id });
}

export const containerRoutes: Route[] = [
  { method: 'POST', path: '/containers/create', handler: create },
  { method: 'GET', path: '/containers/json', handler: list },
  { method: 'POST', path: '/containers/prune', handler: prune },
  { method: 'GET', path: '/containers/{id}/json', handler: inspect },
  { method: 'POST', path: '/containers/{id}/start', handler: start },
  { method: 'POST', path: '/containers/{id}/stop', handler: stop },
  { method: 'POST', path: '/containers/{id}/restart', handler: restart },
  { method: 'POST', path: '/containers/{id}/kill', handler: kill },
  { method: 'POST', path: '/containers/{id}/pause', handler: pause },
  { method: 'POST', path: '/containers/{id}/unpause', handler: unpause },
  { method: 'POST', path: '/containers/{id}/rename', handler: rename },
  { method: 'POST', path: '/containers/{id}/resize', handler: resize },
  { method: 'GET', path: '/containers/{id}/top', handler: top },
  { method: 'GET', path: '/containers/{id}/changes', handler: changes },
  { method: 'POST', path: '/containers/{id}/update', handler: update },
  { method: 'DELETE', path: '/containers/{id}', handler: remove },
  { method: 'POST', path: '/commit', handler: commit },
];
