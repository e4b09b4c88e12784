/**
 * Container endpoints whose bodies stream: wait, logs, attach (hijacked),
 * stats, archive (cp) and export. Each ends cleanly when the client goes away:
 * the request's AbortSignal reaches the engine's iterators and waits.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LogOptions, PathStat } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys.ts';
import { parseTime } from './filters.ts';
import { sendEmpty, sendJson, startStream, writeChunk } from './respond.ts';
import { type Context, param, q, type Route, readBody, versionLess } from './router.ts';
import { acceptHijack, frame, readHijackBody, relaySession, streamContentType } from './streams.ts';

const waitConditions = ['not-running', 'next-exit', 'removed'] as const;
type WaitCondition = (typeof waitConditions)[number];

async function wait(ctx: Context): Promise<void> {
  const id = param(ctx, 'id');
  const raw = q.str(ctx, 'condition') ?? 'not-running';
  if (!(waitConditions as readonly string[]).includes(raw)) {
    throw new InvalidError(`invalid condition: "${raw}"`);
  }
  // Unknown containers get a 404 before the 200 goes out.
  await ctx.engine.inspectContainer(id);
  const res = ctx.res!;
  const result = ctx.engine.waitContainer(id, raw as WaitCondition, ctx.signal);
  // The CLI sends start only once it has these headers, so the wait is armed first.
  startStream(res, 'application/json');
  let body: unknown;
  try {
    const r = await result;
    body = { Error: r.Error ?? null, StatusCode: r.StatusCode };
  } catch (err) {
    if (ctx.signal.aborted) return;
    body = { Error: { Message: (err as Error).message }, StatusCode: -1 };
  }
  if (!res.destroyed) res.end(JSON.stringify(body) + '\n');
}

function parseTail(raw: string | null): number | 'all' {
  if (raw === null || raw === '' || raw === 'all') return 'all';
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 'all';
}

async function logs(ctx: Context): Promise<void> {
  const id = param(ctx, 'id');
  const stdout = q.bool(ctx, 'stdout');
  const stderr = q.bool(ctx, 'stderr');
  if (!stdout && !stderr) throw new InvalidError('Bad parameters: you must choose at least one stream');
  const c = await ctx.engine.inspectContainer(id);
  const tty = c.Config.Tty === true;
  const timestamps = q.bool(ctx, 'timestamps');
  const opts: LogOptions = {
    follow: q.bool(ctx, 'follow'),
    stdout,
    stderr,
    tail: parseTail(ctx.query.get('tail')),
    signal: ctx.signal,
  };
  const since = parseTime('since', ctx.query.get('since'));
  const until = parseTime('until', ctx.query.get('until'));
  if (since !== undefined) opts.since = since;
  if (until !== undefined) opts.until = until;
  const res = ctx.res!;
  const iter = ctx.engine.containerLogs(c.Id, opts);
  startStream(res, versionLess(ctx.apiVersion, '1.42') ? undefined : streamContentType(ctx.apiVersion, tty));
  for await (const entry of iter) {
    const data = timestamps ? Buffer.concat([Buffer.from(`${entry.time} `), entry.data]) : entry.data;
    if (!(await writeChunk(res, tty ? data : frame(entry.stream, data)))) break;
  }
  if (!res.destroyed) res.end();
}

async function attach(ctx: Context): Promise<void> {
  const id = param(ctx, 'id');
  const detachKeys = parseDetachKeys(q.str(ctx, 'detachKeys') || DEFAULT_DETACH_KEYS);
  const { early } = await readHijackBody(ctx);
  const session = await ctx.engine.attachContainer(id, {
    stdin: q.bool(ctx, 'stdin'),
    stdout: q.bool(ctx, 'stdout'),
    stderr: q.bool(ctx, 'stderr'),
    logs: q.bool(ctx, 'logs'),
    stream: q.bool(ctx, 'stream'),
  });
  if (ctx.signal.aborted) {
    session.close();
    return;
  }
  const stream = acceptHijack(ctx, streamContentType(ctx.apiVersion, session.tty));
  await relaySession(session, stream, early, { detachKeys });
}

async function stats(ctx: Context): Promise<void> {
  const id = param(ctx, 'id');
  const stream = q.bool(ctx, 'stream', true) && !q.bool(ctx, 'one-shot');
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  ctx.signal.addEventListener('abort', onAbort);
  try {
    const iter = ctx.engine.containerStats(id, { stream, signal: ac.signal });
    const res = ctx.res!;
    if (!stream) {
      for await (const sample of iter) {
        sendJson(res, 200, sample);
        return;
      }
      throw new Error(`reading stats of ${id}: no sample`);
    }
    let started = false;
    for await (const sample of iter) {
      if (!started) {
        startStream(res, 'application/json');
        started = true;
      }
      if (!(await writeChunk(res, JSON.stringify(sample) + '\n'))) break;
    }
    if (!started) startStream(res, 'application/json');
    if (!res.destroyed) res.end();
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    ac.abort();
  }
}

function archivePath(ctx: Context): string {
  const path = q.str(ctx, 'path');
  if (!path) throw new InvalidError('bad parameter: path cannot be empty');
  return path;
}

function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

async function archiveGet(ctx: Context): Promise<void> {
  const id = param(ctx, 'id');
  const path = archivePath(ctx);
  const res = ctx.res!;
  if (ctx.method === 'HEAD') {
    const stat = await ctx.engine.statPath(id, path);
    res.writeHead(200, {
      'X-Docker-Container-Path-Stat': statHeader(stat),
      'Content-Type': 'application/x-tar',
    });
    res.end();
    return;
  }
  const { stat, tar } = await ctx.engine.getArchive(id, path);
  res.setHeader('X-Docker-Container-Path-Stat', statHeader(stat));
  await pipeOut(ctx, tar, 'application/x-tar');
}

async function archivePut(ctx: Context): Promise<void> {
  await ctx.engine.putArchive(param(ctx, 'id'), archivePath(ctx), ctx.req, {
    noOverwriteDirNonDir: q.bool(ctx, 'noOverwriteDirNonDir'),
  });
  // Drain whatever the engine did not read so the connection can be reused.
  if (!ctx.req.readableEnded) await readBody(ctx.req);
  sendEmpty(ctx.res!, 200);
}

async function exportContainer(ctx: Context): Promise<void> {
  await pipeOut(ctx, await ctx.engine.exportContainer(param(ctx, 'id')), 'application/octet-stream');
}

/** Streams a readable as the chunked body; a client going away destroys the source. */
export async function pipeOut(ctx: Context, source: Readable, contentType: string): Promise<void> {
  const res = ctx.res!;
  startStream(res, contentType);
  try {
    await pipeline(source, res);
  } catch (err) {
    if (!ctx.signal.aborted) ctx.log.warn({ err, path: ctx.path }, 'streaming response failed');
  }
}

export const containerStreamRoutes: Route[] = [
  { method: 'POST', path: '/containers/{id}/wait', handler: wait },
  { method: 'GET', path: '/containers/{id}/logs', handler: logs },
  { method: 'POST', path: '/containers/{id}/attach', handler: attach, hijack: true },
  { method: 'GET', path: '/containers/{id}/stats', handler: stats },
  { method: 'GET', path: '/containers/{id}/archive', handler: archiveGet },
  { method: 'PUT', path: '/containers/{id}/archive', handler: archivePut },
  { method: 'GET', path: '/containers/{id}/export', handler: exportContainer },
];
