import { parseMilli } from '../../api/quantity.ts';
import { formatQuantity } from '../../api/quota.ts';
import type { ResourceType } from '../../api/resource.ts';
import { asArray, isObject, type JsonObject, type KubeObject } from '../../api/types.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';

type Quantities = Record<string, string>;

/** One `spec.limits[]` item with upstream's LimitRangeItem defaulting applied. */
export interface LimitItem {
  type: string;
  min: Quantities;
  max: Quantities;
  default: Quantities;
  defaultRequest: Quantities;
  maxLimitRequestRatio: Quantities;
}

function quantities(v: unknown): Quantities {
  const out: Quantities = {};
  if (isObject(v)) for (const [k, q] of Object.entries(v)) out[k] = String(q);
  return out;
}

/**
 * A LimitRange's items with upstream's defaults: for Container items the
 * default limit falls back to max, and the default request to the default
 * limit, then to min.
 */
export function limitItems(lr: KubeObject): LimitItem[] {
  return asArray(lr.spec?.limits).map((l) => {
    const item: LimitItem = {
      type: String(l.type ?? ''),
      min: quantities(l.min),
      max: quantities(l.max),
      default: quantities(l.default),
      defaultRequest: quantities(l.defaultRequest),
      maxLimitRequestRatio: quantities(l.maxLimitRequestRatio),
    };
    if (item.type === 'Container') {
      item.default = { ...item.max, ...item.default };
      item.defaultRequest = { ...item.min, ...item.default, ...item.defaultRequest };
    }
    return item;
  });
}

/** Sets missing container limits and requests from the Container items' defaults (upstream's merge). */
export function applyDefaults(pod: KubeObject, items: LimitItem[]): void {
  const spec = isObject(pod.spec) ? pod.spec : {};
  for (const item of items.filter((i) => i.type === 'Container')) {
    for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
      const res: JsonObject = isObject(c.resources) ? c.resources : {};
      const stated = quantities(res.limits);
      const limits = { ...item.default, ...stated };
      const requests = quantities(res.requests);
      // A stated limit without a request makes the request (upstream's pod defaulting runs first).
      for (const [k, v] of Object.entries(item.defaultRequest)) requests[k] ??= stated[k] ?? v;
      if (Object.keys(limits).length > 0) res.limits = limits;
      if (Object.keys(requests).length > 0) res.requests = requests;
      c.resources = res;
    }
  }
}

const show = (q: string) => formatQuantity(parseMilli(q), q);

function minConstraint(
  kind: string,
  r: string,
  min: string,
  req: Quantities,
  lim: Quantities,
): string | undefined {
  const enforced = parseMilli(min);
  if (req[r] === undefined) return `minimum ${r} usage per ${kind} is ${show(min)}.  No request is specified`;
  if (parseMilli(req[r]) < enforced)
    return `minimum ${r} usage per ${kind} is ${show(min)}, but request is ${show(req[r])}`;
  if (lim[r] !== undefined && parseMilli(lim[r]) < enforced)
    return `minimum ${r} usage per ${kind} is ${show(min)}, but limit is ${show(lim[r])}`;
  return undefined;
}

function maxConstraint(
  kind: string,
  r: string,
  max: string,
  req: Quantities,
  lim: Quantities,
): string | undefined {
  const enforced = parseMilli(max);
  if (lim[r] === undefined) return `maximum ${r} usage per ${kind} is ${show(max)}.  No limit is specified`;
  if (parseMilli(lim[r]) > enforced)
    return `maximum ${r} usage per ${kind} is ${show(max)}, but limit is ${show(lim[r])}`;
  if (req[r] !== undefined && parseMilli(req[r]) > enforced)
    return `maximum ${r} usage per ${kind} is ${show(max)}, but request is ${show(req[r])}`;
  return undefined;
}

function ratioConstraint(
  kind: string,
  r: string,
  ratio: string,
  req: Quantities,
  lim: Quantities,
): string | undefined {
  const q = req[r] === undefined ? 0 : parseMilli(req[r]);
  const l = lim[r] === undefined ? 0 : parseMilli(lim[r]);
  const head = `${r} max limit to request ratio per ${kind} is ${show(ratio)}`;
  if (q === 0) return `${head}, but no request is specified or request is 0`;
  if (l === 0) return `${head}, but no limit is specified or limit is 0`;
  const observed = l / q;
  if (observed > parseMilli(ratio) / 1000) return `${head}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

function checkItem(kind: string, item: LimitItem, req: Quantities, lim: Quantities, errs: string[]): void {
  const push = (e: string | undefined) => {
    if (e) errs.push(e);
  };
  for (const [r, v] of Object.entries(item.min)) push(minConstraint(kind, r, v, req, lim));
  for (const [r, v] of Object.entries(item.max)) push(maxConstraint(kind, r, v, req, lim));
  for (const [r, v] of Object.entries(item.maxLimitRequestRatio)) push(ratioConstraint(kind, r, v, req, lim));
}

/** Upstream's min/max/ratio checks of a pod against Container and Pod items; the messages, in order. */
export function podViolations(pod: KubeObject, items: LimitItem[]): string[] {
  const errs: string[] = [];
  const spec = isObject(pod.spec) ? pod.spec : {};
  const containers = asArray(spec.containers);
  const inits = asArray(spec.initContainers);
  const resOf = (c: JsonObject, which: 'requests' | 'limits') =>
    quantities(isObject(c.resources) ? c.resources[which] : undefined);
  for (const item of items) {
    if (item.type === 'Container') {
      for (const c of [...containers, ...inits])
        checkItem('Container', item, resOf(c, 'requests'), resOf(c, 'limits'), errs);
    } else if (item.type === 'Pod') {
      const total = (which: 'requests' | 'limits') => {
        const sum: Record<string, number> = {};
        for (const c of containers)
          for (const [k, v] of Object.entries(resOf(c, which))) sum[k] = (sum[k] ?? 0) + parseMilli(v);
        for (const c of inits)
          for (const [k, v] of Object.entries(resOf(c, which))) sum[k] = Math.max(sum[k] ?? 0, parseMilli(v));
        return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, `${v}m`]));
      };
      checkItem('Pod', item, total('requests'), total('limits'), errs);
    }
  }
  return errs;
}

/** Upstream's PersistentVolumeClaim checks: min and max against the requested storage. */
export function claimViolations(pvc: KubeObject, items: LimitItem[]): string[] {
  const errs: string[] = [];
  const req = quantities(isObject(pvc.spec?.resources) ? pvc.spec.resources.requests : undefined);
  for (const item of items.filter((i) => i.type === 'PersistentVolumeClaim')) {
    for (const [r, v] of Object.entries(item.min)) {
      const e = minConstraint('PersistentVolumeClaim', r, v, req, {});
      if (e) errs.push(e);
    }
    for (const [r, v] of Object.entries(item.max)) {
      if (req[r] === undefined)
        errs.push(`maximum ${r} usage per PersistentVolumeClaim is ${show(v)}.  No request is specified`);
      else if (parseMilli(req[r]) > parseMilli(v))
        errs.push(
          `maximum ${r} usage per PersistentVolumeClaim is ${show(v)}, but request is ${show(req[r])}`,
        );
    }
  }
  return errs;
}

/**
 * Upstream's LimitRanger admission: a new pod's containers get the
 * namespace's default limits and requests, then pods and claims are checked
 * against min, max and maxLimitRequestRatio (403 Forbidden with upstream's
 * messages, several as `[a, b]`).
 */
export class LimitRanger implements Admission {
  readonly #objects: () => ObjectStore;
  readonly #limitRangeType: ResourceType;

  constructor(objects: () => ObjectStore, limitRangeType: ResourceType) {
    this.#objects = objects;
    this.#limitRangeType = limitRangeType;
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || req.subresource || req.type.group !== '') return;
    const isPod = req.type.plural === 'pods';
    if (!isPod && req.type.plural !== 'persistentvolumeclaims') return;
    const ns = req.obj.metadata.namespace;
    if (!ns) return;
    const objects = this.#objects();
    const page = await objects.store.list({ prefix: objects.prefix(this.#limitRangeType, ns) });
    if (page.items.length === 0) return;
    const items = page.items.flatMap((kv) => limitItems(objects.decode(kv)));
    if (isPod) applyDefaults(req.obj, items);
    const errs = isPod ? podViolations(req.obj, items) : claimViolations(req.obj, items);
    if (errs.length === 0) return;
    const msg = errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
    throw new ForbiddenError(`${req.type.plural} "${req.obj.metadata.name ?? ''}" is forbidden: ${msg}`);
  }
}
