import { apiVersionOf } from '../api/resource.ts';
import { ensurePath, getPath, isObject, type KubeObject } from '../api/types.ts';
import { ConflictError } from '../lib/errors.ts';
import { decodeBody, readBody, send } from './content.ts';
import { evictPod } from './eviction.ts';
import { applyJsonPatch, applyMergePatch } from './patch/json-patch.ts';
import { applyStrategicMergePatch } from './patch/strategic-merge.ts';
import { fieldManager, isDryRun, type RestContext, sendObject } from './rest-context.ts';
import { handleGet } from './rest-read.ts';
import { handlePatch, handleUpdate } from './rest-write.ts';
import { ApiError, badRequest, methodNotAllowed, notFoundStatus, successStatus } from './status.ts';

function toScale(ctx: RestContext, obj: KubeObject): KubeObject {
  const scale = ctx.type.scale;
  if (!scale) throw notFoundStatus(ctx.type.plural, ctx.info.name ?? '');
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: Number(getPath(obj, scale.specReplicasPath) ?? 0) },
    status: { replicas: Number(getPath(obj, scale.statusReplicasPath) ?? 0), selector: scale.selector(obj) },
  };
}

async function handleScale(ctx: RestContext): Promise<void> {
  const scale = ctx.type.scale;
  if (!scale) throw notFoundStatus(`${ctx.type.plural}/scale`, ctx.info.name ?? '');
  const { namespace, name = '' } = ctx.info;
  const method = ctx.req.method;
  if (method === 'GET') {
    send(ctx.res, 200, toScale(ctx, await ctx.objects.get(ctx.type, namespace, name)));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH')
    throw methodNotAllowed(`${method ?? ''} is not supported on scale`);
  const raw = await readBody(ctx.req);
  const contentType = ctx.req.headers['content-type'];
  const { obj } = await ctx.objects.update(
    ctx.type,
    namespace,
    name,
    (current) => {
      if (!current) throw notFoundStatus(ctx.type.plural, name);
      const before = toScale(ctx, current);
      let desired: KubeObject;
      if (method === 'PUT') desired = decodeBody(raw, contentType) as KubeObject;
      else {
        const ct = (contentType ?? '').split(';')[0];
        const patch = decodeBody(raw, 'application/json');
        desired = (
          ct === 'application/json-patch+json'
            ? applyJsonPatch(before, patch)
            : ct === 'application/strategic-merge-patch+json'
              ? applyStrategicMergePatch(before, patch)
              : applyMergePatch(before, patch)
        ) as KubeObject;
      }
      const replicas = getPath(desired, ['spec', 'replicas']);
      if (typeof replicas !== 'number' || replicas < 0) {
        throw new ApiError(
          422,
          'Invalid',
          `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
        );
      }
      const rv = desired.metadata?.resourceVersion;
      if (rv && rv !== current.metadata.resourceVersion)
        throw new ConflictError('stale scale resourceVersion');
      const parent = ensurePath(current, scale.specReplicasPath.slice(0, -1));
      parent[scale.specReplicasPath[scale.specReplicasPath.length - 1] ?? 'replicas'] = replicas;
      return current;
    },
    { dryRun: isDryRun(ctx), fieldManager: fieldManager(ctx) },
  );
  send(ctx.res, 200, toScale(ctx, obj));
}

async function handleBinding(ctx: RestContext): Promise<void> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
  const target = isObject(body.target) ? body.target : {};
  const nodeName = String(target.name ?? '');
  if (!nodeName) throw badRequest('binding target name is required');
  const name = ctx.info.name ?? '';
  await ctx.objects.update(
    ctx.type,
    ctx.info.namespace,
    name,
    (pod) => {
      if (!pod) throw notFoundStatus('pods', name);
      const spec = ensurePath(pod, ['spec']);
      if (spec.nodeName)
        throw new ApiError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${String(spec.nodeName)}"`,
        );
      spec.nodeName = nodeName;
      return pod;
    },
    { fieldManager: fieldManager(ctx) },
  );
  // The condition lives in status, written through the status path.
  await ctx.objects.update(
    ctx.type,
    ctx.info.namespace,
    name,
    (pod) => {
      if (!pod) throw notFoundStatus('pods', name);
      const status = ensurePath(pod, ['status']);
      const conds = Array.isArray(status.conditions)
        ? status.conditions.filter((c) => isObject(c) && c.type !== 'PodScheduled')
        : [];
      conds.push({
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      });
      status.conditions = conds;
      return pod;
    },
    { subresource: 'status', fieldManager: fieldManager(ctx) },
  );
  send(ctx.res, 201, successStatus());
}

async function handleEviction(ctx: RestContext): Promise<void> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
  const opts = isObject(body.deleteOptions) ? body.deleteOptions : {};
  // PodDisruptionBudgets are honoured in eviction.ts.
  await evictPod(ctx, {
    gracePeriodSeconds: typeof opts.gracePeriodSeconds === 'number' ? opts.gracePeriodSeconds : undefined,
    dryRun: isDryRun(ctx) || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All')),
  });
  send(ctx.res, 201, successStatus());
}

async function handleFinalize(ctx: RestContext): Promise<void> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
  const finalizers = getPath(body, ['spec', 'finalizers']);
  const { obj } = await ctx.objects.update(ctx.type, undefined, ctx.info.name ?? '', (ns) => {
    if (!ns) throw notFoundStatus('namespaces', ctx.info.name ?? '');
    ensurePath(ns, ['spec']).finalizers = Array.isArray(finalizers) ? finalizers : [];
    return ns;
  });
  sendObject(ctx, 200, obj);
}

/** Routes `/<name>/<subresource>` requests; false when the subresource is not served here. */
export async function handleSubresource(ctx: RestContext): Promise<boolean> {
  const sub = ctx.info.subresource;
  const method = ctx.req.method;
  const core = ctx.type.group === '';
  if (sub === 'status' && ctx.type.statusSubresource) {
    if (method === 'GET') await handleGet(ctx);
    else if (method === 'PUT') await handleUpdate(ctx, 'status');
    else if (method === 'PATCH') await handlePatch(ctx, 'status');
    else throw methodNotAllowed(`${method ?? ''} is not supported on status`);
    return true;
  }
  const external = ctx.extensions.http?.[`${ctx.type.plural}/${sub ?? ''}`];
  if (external && core) {
    const { info } = ctx;
    await external(
      { req: ctx.req, url: ctx.url, user: ctx.user, namespace: info.namespace, name: info.name ?? '' },
      ctx.res,
    );
    return true;
  }
  if (sub === 'scale') await handleScale(ctx);
  else if (sub === 'binding' && core && ctx.type.kind === 'Pod' && method === 'POST')
    await handleBinding(ctx);
  else if (sub === 'eviction' && core && ctx.type.kind === 'Pod' && method === 'POST')
    await handleEviction(ctx);
  else if (sub === 'finalize' && core && ctx.type.kind === 'Namespace' && method === 'PUT')
    await handleFinalize(ctx);
  else return false;
  return true;
}

/** Reviews (SelfSubjectAccessReview): answered by the authorizer, never stored. */
export async function handleReview(ctx: RestContext): Promise<void> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
  const reply = (status: unknown) =>
    send(ctx.res, 201, {
      kind: ctx.type.kind,
      apiVersion: apiVersionOf(ctx.type),
      metadata: { creationTimestamp: null },
      ...(body.spec ? { spec: body.spec } : {}),
      status,
    });
  if (ctx.type.kind === 'SelfSubjectReview') {
    reply({ userInfo: { username: ctx.user.name, groups: ctx.user.groups } });
    return;
  }
  if (ctx.type.kind === 'SelfSubjectRulesReview') {
    const ns = String(getPath(body, ['spec', 'namespace']) ?? '');
    const empty = { resourceRules: [], nonResourceRules: [], incomplete: true };
    reply((await ctx.authorizer.rulesFor?.(ctx.user, ns)) ?? empty);
    return;
  }
  const attrs = getPath(body, ['spec', 'resourceAttributes']);
  const nonResource = getPath(body, ['spec', 'nonResourceAttributes']);
  const a = isObject(attrs) ? attrs : {};
  const n = isObject(nonResource) ? nonResource : {};
  const decision = await ctx.authorizer.authorize({
    user: ctx.user,
    verb: String(a.verb ?? n.verb ?? ''),
    group: a.group as string | undefined,
    resource: a.resource as string | undefined,
    subresource: a.subresource as string | undefined,
    namespace: a.namespace as string | undefined,
    name: a.name as string | undefined,
    path: n.path as string | undefined,
  });
  send(ctx.res, 201, {
    kind: ctx.type.kind,
    apiVersion: apiVersionOf(ctx.type),
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  });
}
