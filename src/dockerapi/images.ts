/**
 * Image endpoints: list, inspect, tag, rm, history, save (get), load, import
 * (create?fromSrc=-), pull (create?fromImage=) and push, prune, search.
 * Progress streams are Docker's JSON messages, one per `\r\n`-terminated line;
 * errors after the 200 go in-stream as `{"errorDetail":{"message"},"error"}`.
 */
import type { ServerResponse } from 'node:http';
import type { ProgressMessage } from '../engine/types.ts';
import { InvalidError, UnavailableError } from '../lib/errors.ts';
import { pipeOut } from './containers-streams.ts';
import { dockerMessage, sendJson, startStream } from './respond.ts';
import { type Context, param, q, type Route, readBody } from './router.ts';

/** A progress stream whose 200 goes out with the first message, so early failures keep their status. */
class ProgressStream {
  private readonly res: ServerResponse;
  private started = false;
  constructor(res: ServerResponse) {
    this.res = res;
  }
  get isStarted(): boolean {
    return this.started;
  }
  send(m: ProgressMessage | Record<string, unknown>): void {
    if (!this.started) {
      startStream(this.res, 'application/json');
      this.started = true;
    }
    if (!this.res.destroyed) this.res.write(JSON.stringify(m) + '\r\n');
  }
  fail(err: unknown): void {
    const message = dockerMessage(err instanceof Error ? err.message : String(err));
    this.send({ errorDetail: { message }, error: message });
  }
  end(): void {
    if (!this.started) startStream(this.res, 'application/json');
    if (!this.res.destroyed) this.res.end();
  }
}

async function list(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.listImages({ all: q.bool(ctx, 'all'), filters: q.filters(ctx) }));
}

async function inspect(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.inspectImage(param(ctx, 'name')));
}

async function tag(ctx: Context): Promise<void> {
  const repo = q.str(ctx, 'repo');
  if (!repo) throw new InvalidError('repository name must have at least one component');
  await ctx.engine.tagImage(param(ctx, 'name'), repo, q.str(ctx, 'tag'));
  ctx.res!.writeHead(201, { 'Content-Length': 0 });
  ctx.res!.end();
}

async function remove(ctx: Context): Promise<void> {
  const items = await ctx.engine.removeImage(param(ctx, 'name'), {
    force: q.bool(ctx, 'force'),
    noprune: q.bool(ctx, 'noprune'),
  });
  sendJson(ctx.res!, 200, items);
}

async function history(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.imageHistory(param(ctx, 'name')));
}

async function save(ctx: Context): Promise<void> {
  const names = ctx.params.name ? [ctx.params.name] : ctx.query.getAll('names').filter((n) => n !== '');
  if (names.length === 0) throw new InvalidError('no image names given to save');
  await pipeOut(ctx, await ctx.engine.saveImages(names), 'application/x-tar');
}

async function load(ctx: Context): Promise<void> {
  const quiet = q.bool(ctx, 'quiet');
  const out = new ProgressStream(ctx.res!);
  try {
    const { loaded } = await ctx.engine.loadImages(ctx.req, (m) => {
      if (!quiet) out.send(m);
    });
    for (const name of loaded) {
      const text = name.startsWith('sha256:') ? `Loaded image ID: ${name}\n` : `Loaded image: ${name}\n`;
      out.send({ stream: text });
    }
  } catch (err) {
    if (!out.isStarted) throw err;
    out.fail(err);
  }
  out.end();
}

/** `repo` may carry the tag (`busybox:latest`); a colon before the last slash is a registry port. */
export function splitRepoTag(repo: string, tag: string | undefined): { repo: string; tag?: string } {
  if (tag) return { repo, tag };
  const colon = repo.lastIndexOf(':');
  if (colon > repo.lastIndexOf('/') && !repo.includes('@')) {
    return { repo: repo.slice(0, colon), tag: repo.slice(colon + 1) };
  }
  return { repo };
}

async function create(ctx: Context): Promise<void> {
  const fromSrc = q.str(ctx, 'fromSrc');
  const fromImage = q.str(ctx, 'fromImage');
  if (fromSrc !== undefined) {
    if (fromSrc !== '-')
      throw new InvalidError('importing from a URL is not supported; pipe the tarball with -');
    const out = new ProgressStream(ctx.res!);
    const target = q.str(ctx, 'repo') ? splitRepoTag(q.str(ctx, 'repo')!, q.str(ctx, 'tag')) : {};
    try {
      const { Id } = await ctx.engine.importImage(ctx.req, {
        ...target,
        changes: ctx.query.getAll('changes').filter((c) => c !== ''),
        message: q.str(ctx, 'message'),
        onProgress: (m) => out.send(m),
      });
      out.send({ status: Id });
    } catch (err) {
      if (!out.isStarted) throw err;
      out.fail(err);
    }
    out.end();
    return;
  }
  if (!fromImage) throw new InvalidError('one of fromImage or fromSrc must be given');
  await readBody(ctx.req);
  const ref = q.str(ctx, 'tag') && !fromImage.includes('@') ? `${fromImage}:${q.str(ctx, 'tag')}` : fromImage;
  await registryStream(ctx, ref, 'pull', ctx.engine.pullImage?.bind(ctx.engine));
}

async function push(ctx: Context): Promise<void> {
  await readBody(ctx.req);
  const name = param(ctx, 'name');
  const ref = q.str(ctx, 'tag') ? `${name}:${q.str(ctx, 'tag')}` : name;
  await registryStream(ctx, ref, 'push', ctx.engine.pushImage?.bind(ctx.engine));
}

type RegistryOp = (
  ref: string,
  opts: { auth?: string; onProgress?: (m: ProgressMessage) => void; signal?: AbortSignal },
) => Promise<void>;

/** Pull and push: progress in-stream; without a registry client, a clear in-stream error. */
async function registryStream(ctx: Context, ref: string, verb: string, op: RegistryOp | undefined) {
  const out = new ProgressStream(ctx.res!);
  try {
    if (!op)
      throw new UnavailableError(
        `registry not available: cannot ${verb} ${ref}: this engine has no registry client`,
      );
    const auth = ctx.req.headers['x-registry-auth'];
    await op(ref, {
      ...(typeof auth === 'string' ? { auth } : {}),
      onProgress: (m) => out.send(m),
      signal: ctx.signal,
    });
  } catch (err) {
    out.fail(err);
  }
  out.end();
}

async function prune(ctx: Context): Promise<void> {
  const report = await ctx.engine.pruneImages(q.filters(ctx));
  sendJson(ctx.res!, 200, {
    ImagesDeleted: report.deleted.length > 0 ? report.deleted.map((id) => ({ Deleted: id })) : null,
    SpaceReclaimed: report.spaceReclaimed,
  });
}

async function search(ctx: Context): Promise<void> {
  throw new UnavailableError(`searching registries for "${q.str(ctx, 'term') ?? ''}" is not supported`);
}

export const imageRoutes: Route[] = [
  { method: 'GET', path: '/images/json', handler: list },
  { method: 'GET', path: '/images/get', handler: save },
  { method: 'GET', path: '/images/search', handler: search },
  { method: 'POST', path: '/images/load', handler: load },
  { method: 'POST', path: '/images/create', handler: create },
  { method: 'POST', path: '/images/prune', handler: prune },
  { method: 'GET', path: '/images/{name*}/json', handler: inspect },
  { method: 'GET', path: '/images/{name*}/history', handler: history },
  { method: 'GET', path: '/images/{name*}/get', handler: save },
  { method: 'POST', path: '/images/{name*}/tag', handler: tag },
  { method: 'POST', path: '/images/{name*}/push', handler: push },
  { method: 'DELETE', path: '/images/{name*}', handler: remove },
];
