import type { KubeObject } from '../api/types.ts';
import { bookmark, type ListQuery, listObjects, type OutEvent, watchObjects } from './list-watch.ts';
import { query, type RestContext, sendList, sendObject } from './rest-context.ts';
import { badRequest } from './status.ts';
import { parseIncludeObject, toTable } from './table.ts';

export function listQuery(ctx: RestContext): ListQuery {
  const limit = query(ctx, 'limit');
  const n = limit === undefined ? undefined : Number(limit);
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw badRequest(`invalid limit: ${limit}`);
  return {
    namespace: ctx.info.namespace,
    labelSelector: query(ctx, 'labelSelector'),
    fieldSelector: query(ctx, 'fieldSelector'),
    limit: n,
    continue: query(ctx, 'continue'),
    resourceVersion: query(ctx, 'resourceVersion'),
    resourceVersionMatch: query(ctx, 'resourceVersionMatch'),
  };
}

export async function handleGet(ctx: RestContext): Promise<void> {
  const obj = await ctx.objects.get(ctx.type, ctx.info.namespace, ctx.info.name ?? '');
  sendObject(ctx, 200, obj);
}

export async function handleList(ctx: RestContext): Promise<void> {
  const page = await listObjects(ctx.objects, ctx.type, listQuery(ctx));
  sendList(ctx, page.items, {
    resourceVersion: page.resourceVersion,
    ...(page.continue ? { continue: page.continue } : {}),
    ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}),
  });
}

/**
 * Streams watch events as newline-delimited JSON. Ends after timeoutSeconds
 * (when given) or when the client goes away; with allowWatchBookmarks, sends
 * a BOOKMARK carrying the last delivered revision every bookmark interval.
 */
export async function handleWatch(ctx: RestContext): Promise<void> {
  const q = listQuery(ctx);
  const timeout = Number(query(ctx, 'timeoutSeconds') ?? '0');
  const bookmarks = query(ctx, 'allowWatchBookmarks') === 'true';
  const abort = new AbortController();
  const stop = () => abort.abort();
  ctx.res.on('close', stop);
  const timer = timeout > 0 ? setTimeout(stop, timeout * 1000) : undefined;
  const include = parseIncludeObject(ctx.url.searchParams.get('includeObject'));
  let sentHeaders = false;
  let lastRv = Number(q.resourceVersion ?? 0) || 0;
  const write = (ev: OutEvent) => {
    let object = ev.object;
    if (
      ctx.output.kind === 'table' &&
      (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED')
    ) {
      object = toTable(ctx.type, [ev.object as KubeObject], {
        include,
        listMeta: {},
        noHeaders: sentHeaders,
      });
      sentHeaders = true;
    }
    ctx.res.write(`${JSON.stringify({ type: ev.type, object })}\n`);
  };
  const bookmarkTimer = bookmarks
    ? setInterval(() => {
        if (lastRv > 0) write(bookmark(ctx.type, lastRv));
      }, ctx.bookmarkIntervalMs)
    : undefined;
  const events = watchObjects(
    ctx.objects,
    ctx.type,
    { ...q, allowWatchBookmarks: bookmarks, sendInitialEvents: query(ctx, 'sendInitialEvents') === 'true' },
    abort.signal,
  );
  ctx.res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  ctx.res.flushHeaders();
  try {
    for await (const ev of events) {
      if (abort.signal.aborted) break;
      const rv = (ev.object as KubeObject | undefined)?.metadata?.resourceVersion;
      if (rv && ev.type !== 'ERROR') lastRv = Number(rv);
      write(ev);
      if (ev.type === 'ERROR') break;
    }
  } finally {
    clearTimeout(timer);
    clearInterval(bookmarkTimer);
    ctx.res.off('close', stop);
    abort.abort();
    ctx.res.end();
  }
}
