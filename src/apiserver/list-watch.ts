import { matchesLabels, parseLabelSelector, type Requirement } from '../api/label-selector.ts';
import { apiVersionOf, type ResourceType } from '../api/resource.ts';
import type { KubeObject } from '../api/types.ts';
import { CompactedError, type WatchEvent } from '../storage/store.ts';
import { type FieldRequirement, matchesFields, parseFieldSelector } from './field-selector.ts';
import type { ObjectStore } from './object-store.ts';
import { badRequest, expired, toStatus } from './status.ts';

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface Filter {
  labels: Requirement[];
  fields: FieldRequirement[];
}

export function buildFilter(
  type: ResourceType,
  q: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>,
): Filter {
  let labels: Requirement[] = [];
  try {
    labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
  } catch (err) {
    throw badRequest(`unable to parse requirement: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { labels, fields: q.fieldSelector ? parseFieldSelector(q.fieldSelector, type) : [] };
}

export function matches(type: ResourceType, f: Filter, obj: KubeObject): boolean {
  return matchesLabels(f.labels, obj.metadata.labels) && matchesFields(f.fields, type, obj);
}

/** Most keys read from the store per request while serving one LIST. */
const storeChunk = 500;

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad fields');
    return t;
  } catch {
    throw badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
}

/** LIST with selectors and pagination; filtered pages are filled up to `limit` from one snapshot. */
export async function listObjects(objects: ObjectStore, type: ResourceType, q: ListQuery): Promise<ListPage> {
  const filter = buildFilter(type, q);
  const prefix = objects.prefix(type, q.namespace);
  // resourceVersion=0 means "any version"; upstream serves it from the cache and ignores limit.
  const limit = q.resourceVersion === '0' || !q.limit || q.limit <= 0 ? undefined : q.limit;
  let start: string | undefined;
  let revision: number | undefined;
  if (q.continue) {
    const t = decodeContinue(q.continue);
    start = t.start;
    revision = t.rv;
  } else if (q.resourceVersionMatch === 'Exact' && q.resourceVersion) revision = Number(q.resourceVersion);
  const items: KubeObject[] = [];
  for (;;) {
    let page: Awaited<ReturnType<typeof objects.store.list>>;
    try {
      page = await objects.store.list({
        prefix,
        // Read in chunks from one snapshot: bounded store responses (etcd's gRPC
        // limit is 4 MiB) whatever the size of the collection.
        limit: Math.min(limit ? limit - items.length : storeChunk, storeChunk),
        continueKey: start,
        revision,
      });
    } catch (err) {
      if (err instanceof CompactedError && q.continue) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      throw err;
    }
    revision = page.revision;
    for (const kv of page.items) {
      const obj = objects.decodeAs(type, kv);
      if (matches(type, filter, obj)) items.push(obj);
    }
    const last = page.items[page.items.length - 1];
    if (last) start = last.key;
    if (!page.more) return { items, resourceVersion: String(page.revision) };
    if (limit && items.length >= limit) {
      const token: ContinueToken = { v: 'meta.k8s.io/v1', rv: page.revision, start: start ?? '' };
      const remaining = filter.labels.length === 0 && filter.fields.length === 0 ? page.remaining : undefined;
      return {
        items,
        resourceVersion: String(page.revision),
        continue: Buffer.from(JSON.stringify(token)).toString('base64url'),
        ...(remaining !== undefined ? { remainingItemCount: remaining } : {}),
      };
    }
  }
}

export interface WatchQuery extends ListQuery {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

export interface OutEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

/**
 * WATCH per upstream resourceVersion semantics: unset = from now, "0" =
 * synthetic ADDED for current state first, N = changes after N. Selector
 * transitions become ADDED/DELETED. Compacted history yields one ERROR event
 * (410 Expired) and ends the stream.
 */
export async function* watchObjects(
  objects: ObjectStore,
  type: ResourceType,
  q: WatchQuery,
  signal: AbortSignal,
): AsyncGenerator<OutEvent> {
  const filter = buildFilter(type, q);
  const prefix = objects.prefix(type, q.namespace);
  let from: number;
  const rv = q.resourceVersion;
  if (rv === '0' || (q.sendInitialEvents && !rv)) {
    const page = await listObjects(objects, type, {
      ...q,
      limit: undefined,
      continue: undefined,
      resourceVersion: '0',
    });
    for (const obj of page.items) yield { type: 'ADDED', object: obj };
    from = Number(page.resourceVersion);
    if (q.sendInitialEvents && q.allowWatchBookmarks) {
      yield bookmark(type, from, { 'k8s.io/initial-events-end': 'true' });
    }
  } else if (rv) {
    from = Number(rv);
    if (!Number.isFinite(from)) throw badRequest(`invalid resource version: ${rv}`);
  } else from = await objects.store.currentRevision();
  try {
    for await (const ev of objects.store.watch({ prefix, fromRevision: from, signal })) {
      const out = convert(objects, type, filter, ev);
      if (out) yield out;
    }
  } catch (err) {
    if (err instanceof CompactedError) {
      yield {
        type: 'ERROR',
        object: toStatus(expired(`too old resource version: ${from} (${err.compactRevision})`)),
      };
      return;
    }
    if (signal.aborted) return;
    yield { type: 'ERROR', object: toStatus(err) };
  }
}

export function bookmark(type: ResourceType, rv: number, annotations?: Record<string, string>): OutEvent {
  return {
    type: 'BOOKMARK',
    object: {
      kind: type.kind,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) },
    },
  };
}

function convert(objects: ObjectStore, type: ResourceType, f: Filter, ev: WatchEvent): OutEvent | undefined {
  const cur = objects.decodeAs(type, ev.kv);
  if (ev.type === 'delete') return matches(type, f, cur) ? { type: 'DELETED', object: cur } : undefined;
  const nowMatches = matches(type, f, cur);
  const before = ev.prevKv ? matches(type, f, objects.decodeAs(type, ev.prevKv)) : false;
  if (nowMatches && before) return { type: 'MODIFIED', object: cur };
  if (nowMatches) return { type: 'ADDED', object: cur };
  if (before) return { type: 'DELETED', object: cur };
  return undefined;
}
