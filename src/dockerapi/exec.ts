/**
 * Exec endpoints: create, start (hijacked like attach; 200 with an empty body
 * when detached), resize, inspect.
 */
import type { ExecCreateRequest } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys.ts';
import { sendEmpty, sendJson } from './respond.ts';
import { type Context, param, parseJsonBody, q, type Route, readJson } from './router.ts';
import { acceptHijack, readHijackBody, relaySession, streamContentType } from './streams.ts';

async function create(ctx: Context): Promise<void> {
  const body = await readJson<Partial<ExecCreateRequest> & { Cmd?: unknown }>(ctx);
  let cmd = body.Cmd;
  if (typeof cmd === 'string') cmd = [cmd];
  if (!Array.isArray(cmd) || cmd.length === 0) throw new InvalidError('No exec command specified');
  if (!cmd.every((c) => typeof c === 'string'))
    throw new InvalidError('invalid Cmd: expected a list of strings');
  const req: ExecCreateRequest = { ...body, Cmd: cmd as string[] };
  if (req.Env === null) delete req.Env;
  const { Id } = await ctx.engine.createExec(param(ctx, 'id'), req);
  sendJson(ctx.res!, 201, { Id });
}

async function start(ctx: Context): Promise<void> {
  const id = param(ctx, 'id');
  const { body, early } = await readHijackBody(ctx);
  const opts = parseJsonBody<{ Detach?: boolean; Tty?: boolean }>(body);
  const detach = opts.Detach === true;
  const session = await ctx.engine.startExec(id, { detach, tty: opts.Tty === true });
  if (detach || ctx.signal.aborted) {
    session.close();
    if (ctx.res) sendEmpty(ctx.res, 200);
    else ctx.upgrade?.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  let detachKeys: Buffer | undefined;
  if (session.stdin) {
    const info = await ctx.engine.inspectExec(id).catch(() => null);
    detachKeys = parseDetachKeys(info?.DetachKeys || DEFAULT_DETACH_KEYS);
  }
  const stream = acceptHijack(ctx, streamContentType(ctx.apiVersion, session.tty));
  await relaySession(session, stream, early, { detachKeys });
}

async function resize(ctx: Context): Promise<void> {
  await ctx.engine.resizeExec(param(ctx, 'id'), q.int(ctx, 'h') ?? 0, q.int(ctx, 'w') ?? 0);
  sendEmpty(ctx.res!, 200);
}

async function inspect(ctx: Context): Promise<void> {
  sendJson(ctx.res!, 200, await ctx.engine.inspectExec(param(ctx, 'id')));
}

export const execRoutes: Route[] = [
  { method: 'POST', path: '/containers/{id}/exec', handler: create },
  { method: 'POST', path: '/exec/{id}/start', handler: start, hijack: true },
  { method: 'POST', path: '/exec/{id}/resize', handler: resize },
  { method: 'GET', path: '/exec/{id}/json', handler: inspect },
];
