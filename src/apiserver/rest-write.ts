import { apiVersionOf, type ResourceType } from '../api/resource.ts';
import { isObject, type JsonObject, type KubeObject } from '../api/types.ts';
import { decodeBody, mediaType, readBody } from './content.ts';
import { unknownFields } from './field-validation.ts';
import { listObjects } from './list-watch.ts';
import type { DeleteOptions } from './object-store.ts';
import { serverSideApply } from './patch/apply.ts';
import { applyJsonPatch, applyMergePatch } from './patch/json-patch.ts';
import { applyStrategicMergePatch } from './patch/strategic-merge.ts';
import { fieldManager, isDryRun, query, type RestContext, sendList, sendObject } from './rest-context.ts';
import { listQuery } from './rest-read.ts';
import { ApiError, badRequest, unsupportedMediaType } from './status.ts';

/** Checks apiVersion/kind/namespace of a body against the endpoint and applies fieldValidation. */
export function checkBody(ctx: RestContext, body: JsonObject, type: ResourceType = ctx.type): KubeObject {
  if (Array.isArray(body)) throw badRequest('the request body must be a single object');
  const gv = apiVersionOf(type);
  if (body.kind !== undefined && body.kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${String(body.kind)}) does not match the expected kind (${type.kind}) of the endpoint`,
    );
  }
  if (body.apiVersion !== undefined && body.apiVersion !== gv) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${gv})`,
    );
  }
  if (!isObject(body.metadata)) body.metadata = {};
  const obj = body as KubeObject;
  const ns = ctx.info.namespace;
  if (type.namespaced) {
    if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (ns) obj.metadata.namespace = ns;
  }
  validateFields(ctx, obj, type);
  return obj;
}

function validateFields(ctx: RestContext, obj: KubeObject, type: ResourceType): void {
  const mode = query(ctx, 'fieldValidation') ?? 'Warn';
  if (mode === 'Ignore') return;
  if (mode !== 'Strict' && mode !== 'Warn')
    throw badRequest(`fieldValidation must be one of Ignore, Warn or Strict, got "${mode}"`);
  const unknown = unknownFields(type, obj);
  if (unknown.length === 0) return;
  if (mode === 'Strict') {
    const msgs = unknown.map((f) => `unknown field "${f}"`);
    throw badRequest(`strict decoding error: ${msgs.join(', ')}`);
  }
  for (const f of unknown) ctx.warnings.push(`unknown field "${f}"`);
}

async function body(ctx: RestContext): Promise<JsonObject> {
  return decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
}

export async function handleCreate(ctx: RestContext): Promise<void> {
  const obj = checkBody(ctx, await body(ctx));
  if (ctx.info.name)
    throw new ApiError(405, 'MethodNotAllowed', `POST is not allowed on a named ${ctx.type.plural} resource`);
  const created = await ctx.objects.create(ctx.type, obj, {
    dryRun: isDryRun(ctx),
    fieldManager: fieldManager(ctx),
  });
  sendObject(ctx, 201, created);
}

export async function handleUpdate(ctx: RestContext, subresource?: string): Promise<void> {
  const obj = checkBody(ctx, await body(ctx));
  const name = ctx.info.name ?? '';
  if (obj.metadata.name && obj.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  obj.metadata.name = name;
  const { obj: out, created } = await ctx.objects.update(ctx.type, ctx.info.namespace, name, () => obj, {
    dryRun: isDryRun(ctx),
    fieldManager: fieldManager(ctx),
    subresource,
  });
  sendObject(ctx, created ? 201 : 200, out);
}

/** Applies a PATCH body of any supported type to `current` (undefined only for apply). */
export function patchObject(
  ctx: RestContext,
  current: KubeObject | undefined,
  patchBody: Buffer,
): KubeObject {
  const type = mediaType(ctx.req.headers['content-type']);
  const isCustom =
    ctx.type.storageResource === `${ctx.type.group}/${ctx.type.plural}` && ctx.type.schema !== undefined;
  switch (type) {
    case 'application/json-patch+json':
      return applyJsonPatch(current, decodeBody(patchBody, 'application/json')) as KubeObject;
    case 'application/merge-patch+json':
      return applyMergePatch(current, decodeBody(patchBody, 'application/json')) as KubeObject;
    case 'application/strategic-merge-patch+json':
      if (isCustom) throw unsupportedMediaType(type);
      return applyStrategicMergePatch(current, decodeBody(patchBody, 'application/json')) as KubeObject;
    case 'application/apply-patch+yaml': {
      const manager = query(ctx, 'fieldManager');
      if (!manager)
        throw badRequest('PATCH requests of type apply-patch must have a fieldManager (in the query string)');
      const applied = checkBody(ctx, decodeBody(patchBody, type));
      if (applied.metadata.name && applied.metadata.name !== ctx.info.name) {
        throw badRequest(
          `the name of the object (${applied.metadata.name}) does not match the name on the URL (${ctx.info.name ?? ''})`,
        );
      }
      applied.metadata.name = ctx.info.name;
      return serverSideApply(ctx.type, current, applied, { manager, force: query(ctx, 'force') === 'true' });
    }
    default:
      throw unsupportedMediaType(type);
  }
}

export async function handlePatch(ctx: RestContext, subresource?: string): Promise<void> {
  const raw = await readBody(ctx.req);
  const isApply = mediaType(ctx.req.headers['content-type']) === 'application/apply-patch+yaml';
  const { obj, created } = await ctx.objects.update(
    ctx.type,
    ctx.info.namespace,
    ctx.info.name ?? '',
    (current) => {
      const patched = patchObject(ctx, current, raw);
      if (!isObject(patched) || !isObject(patched.metadata))
        throw badRequest('the patch produced an object without metadata');
      if (!isApply) validateFields(ctx, patched, ctx.type);
      return patched;
    },
    {
      dryRun: isDryRun(ctx),
      fieldManager: isApply ? query(ctx, 'fieldManager') : fieldManager(ctx),
      operation: isApply ? 'Apply' : 'Update',
      allowCreate: isApply && !subresource,
      subresource,
    },
  );
  sendObject(ctx, created ? 201 : 200, obj);
}

/** DeleteOptions from the body (JSON or protobuf) or the query string. */
export async function deleteOptions(ctx: RestContext): Promise<DeleteOptions> {
  const raw = await readBody(ctx.req);
  const o: JsonObject = raw.length > 0 ? decodeBody(raw, ctx.req.headers['content-type']) : {};
  const grace = o.gracePeriodSeconds ?? query(ctx, 'gracePeriodSeconds');
  const pre = isObject(o.preconditions) ? o.preconditions : {};
  const dryRun = Array.isArray(o.dryRun) ? o.dryRun.includes('All') : isDryRun(ctx);
  return {
    gracePeriodSeconds: grace === undefined ? undefined : Number(grace),
    propagationPolicy: String(o.propagationPolicy ?? query(ctx, 'propagationPolicy') ?? ''),
    preconditions: {
      uid: pre.uid as string | undefined,
      resourceVersion: pre.resourceVersion as string | undefined,
    },
    dryRun,
  };
}

export async function handleDelete(ctx: RestContext): Promise<void> {
  const opts = await deleteOptions(ctx);
  const { obj, deleted } = await ctx.objects.delete(ctx.type, ctx.info.namespace, ctx.info.name ?? '', opts);
  sendObject(ctx, deleted ? 200 : 200, obj);
}

export async function handleDeleteCollection(ctx: RestContext): Promise<void> {
  const opts = await deleteOptions(ctx);
  const page = await listObjects(ctx.objects, ctx.type, {
    ...listQuery(ctx),
    limit: undefined,
    continue: undefined,
  });
  const out: KubeObject[] = [];
  for (const item of page.items) {
    try {
      out.push(
        (await ctx.objects.delete(ctx.type, item.metadata.namespace, item.metadata.name ?? '', opts)).obj,
      );
    } catch {
      // Already gone: deletecollection is best effort per item, like upstream.
    }
  }
  sendList(ctx, out, { resourceVersion: page.resourceVersion });
}
