import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, qualifiedResource, type ResourceType } from '../api/resource.ts';
import type { KubeObject, ListMeta } from '../api/types.ts';
import type { Authorizer, UserInfo } from './auth.ts';
import { type Output, send } from './content.ts';
import type { SubresourceHandlers } from './extensions.ts';
import type { ObjectStore } from './object-store.ts';
import type { RequestInfo } from './request-info.ts';
import type { ErrorContext } from './status.ts';
import { parseIncludeObject, toTable } from './table.ts';
import type { TypeRegistry } from './type-registry.ts';

/** Everything a REST verb handler needs about one request. */
export interface RestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  info: RequestInfo;
  type: ResourceType;
  user: UserInfo;
  output: Output;
  objects: ObjectStore;
  types: TypeRegistry;
  authorizer: Authorizer;
  /** Warnings to send as `Warning: 299 - "..."` headers. */
  warnings: string[];
  bookmarkIntervalMs: number;
  extensions: SubresourceHandlers;
}

export function query(ctx: RestContext, name: string): string | undefined {
  return ctx.url.searchParams.get(name) ?? undefined;
}

export function isDryRun(ctx: RestContext): boolean {
  return ctx.url.searchParams.getAll('dryRun').includes('All');
}

/** fieldManager from the query, else derived from the User-Agent like upstream. */
export function fieldManager(ctx: RestContext): string {
  const q = query(ctx, 'fieldManager');
  if (q) return q;
  const ua = ctx.req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0] ?? 'unknown';
}

export function errorContext(type: ResourceType | undefined, name?: string): ErrorContext {
  if (!type) return { name };
  return { resource: qualifiedResource(type), group: type.group, plural: type.plural, kind: type.kind, name };
}

function warningHeaders(ctx: RestContext): Record<string, string> {
  if (ctx.warnings.length === 0) return {};
  return { Warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

/** Sends one object as JSON, YAML or a one-row Table. */
export function sendObject(ctx: RestContext, code: number, obj: KubeObject): void {
  if (ctx.output.kind === 'table') {
    const include = parseIncludeObject(ctx.url.searchParams.get('includeObject'));
    send(
      ctx.res,
      code,
      toTable(ctx.type, [obj], { include, listMeta: { resourceVersion: obj.metadata.resourceVersion } }),
      {
        headers: warningHeaders(ctx),
      },
    );
    return;
  }
  send(ctx.res, code, obj, { output: ctx.output, headers: warningHeaders(ctx) });
}

export function sendList(ctx: RestContext, items: KubeObject[], meta: ListMeta): void {
  if (ctx.output.kind === 'table') {
    const include = parseIncludeObject(ctx.url.searchParams.get('includeObject'));
    send(ctx.res, 200, toTable(ctx.type, items, { include, listMeta: meta }));
    return;
  }
  const list = { kind: `${ctx.type.kind}List`, apiVersion: apiVersionOf(ctx.type), metadata: meta, items };
  send(ctx.res, 200, list, { output: ctx.output });
}
