/**
 * ResourceQuota arithmetic shared by the quota controller (status.used) and
 * the quota admission plugin (the usage a new object adds): which quota
 * resource names an object counts toward and how much, in milli-units, and
 * upstream's canonical quantity strings. No I/O.
 */
import { parseMilli } from './quantity.ts';
import { asArray, getPath, isObject, type KubeObject } from './types.ts';

/** Usage in milli-units per quota resource name (`pods` → 1000 per pod). */
export type Usage = Map<string, number>;

/** What a quota resource name counts, enough to know which objects to look at. */
export interface Tracked {
  group: string;
  plural: string;
}

/** Legacy object-count names (upstream's `pods`, `services`, ...). */
const legacyCounts: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

/** Pod compute names: `cpu`/`memory`/`ephemeral-storage` alias `requests.*`. */
const computeAliases = new Set(['cpu', 'memory', 'ephemeral-storage']);

/** The quota names a container must state when a quota tracks them (upstream's validation set). */
const mustSpecify = new Set([
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'cpu',
  'memory',
]);

/** The objects a quota resource name counts, or undefined for a name we cannot count. */
export function trackedBy(name: string): Tracked | undefined {
  const legacy = legacyCounts[name];
  if (legacy) return { group: '', plural: legacy };
  if (name.startsWith('count/')) {
    const [plural = '', ...group] = name.slice('count/'.length).split('.');
    return { group: group.join('.'), plural };
  }
  if (name.startsWith('services.')) return { group: '', plural: 'services' };
  if (name === 'requests.storage' || name.endsWith('.storageclass.storage.k8s.io/requests.storage'))
    return { group: '', plural: 'persistentvolumeclaims' };
  if (name.endsWith('.storageclass.storage.k8s.io/persistentvolumeclaims'))
    return { group: '', plural: 'persistentvolumeclaims' };
  if (computeAliases.has(name) || name.startsWith('requests.') || name.startsWith('limits.'))
    return { group: '', plural: 'pods' };
  return undefined;
}

/**
 * Whether a pod's compute use (and `pods`) still counts against quota
 * (upstream's QuotaV1Pod): not Succeeded or Failed, and not stuck
 * terminating a grace period past its deletionTimestamp. `count/pods`
 * counts every stored pod regardless.
 */
export function isPodCounted(pod: KubeObject, nowMs = Date.now()): boolean {
  const phase = getPath(pod, ['status', 'phase']);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const { deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
  if (deletionTimestamp && typeof deletionGracePeriodSeconds === 'number')
    return nowMs <= Date.parse(deletionTimestamp) + deletionGracePeriodSeconds * 1000;
  return true;
}

type ResourceList = Record<string, number>;

function list(v: unknown): ResourceList {
  const out: ResourceList = {};
  if (!isObject(v)) return out;
  for (const [k, q] of Object.entries(v))
    if (typeof q === 'string' || typeof q === 'number') out[k] = parseMilli(q);
  return out;
}

/** A container's requests (a request missing where a limit is set defaults to the limit) and limits. */
export function containerResources(c: unknown): { requests: ResourceList; limits: ResourceList } {
  const limits = list(getPath(c, ['resources', 'limits']));
  const requests = { ...limits, ...list(getPath(c, ['resources', 'requests'])) };
  return { requests, limits };
}

/** The pod's effective requests and limits: max(sum of containers, any init container) + overhead. */
export function podResources(pod: KubeObject): { requests: ResourceList; limits: ResourceList } {
  const out = { requests: {} as ResourceList, limits: {} as ResourceList };
  const spec = isObject(pod.spec) ? pod.spec : {};
  for (const c of asArray(spec.containers)) {
    const r = containerResources(c);
    for (const which of ['requests', 'limits'] as const)
      for (const [k, v] of Object.entries(r[which])) out[which][k] = (out[which][k] ?? 0) + v;
  }
  for (const c of asArray(spec.initContainers)) {
    const r = containerResources(c);
    for (const which of ['requests', 'limits'] as const)
      for (const [k, v] of Object.entries(r[which])) out[which][k] = Math.max(out[which][k] ?? 0, v);
  }
  for (const [k, v] of Object.entries(list(spec.overhead))) {
    out.requests[k] = (out.requests[k] ?? 0) + v;
    if (out.limits[k] !== undefined) out.limits[k] += v;
  }
  return out;
}

/**
 * How much `obj` (of `tracked`) adds to each of `names` (the quota's hard
 * names). Names the object does not count toward are absent.
 */
export function usageOf(obj: KubeObject, tracked: Tracked, names: Iterable<string>, nowMs?: number): Usage {
  const out: Usage = new Map();
  const isPod = tracked.group === '' && tracked.plural === 'pods';
  const live = !isPod || isPodCounted(obj, nowMs);
  const pod = isPod && live ? podResources(obj) : undefined;
  const countName = tracked.group ? `count/${tracked.plural}.${tracked.group}` : `count/${tracked.plural}`;
  for (const name of names) {
    if (name === countName) out.set(name, 1000);
    else if (!live) continue;
    else if (tracked.group === '' && legacyCounts[name] === tracked.plural) {
      out.set(name, 1000);
    } else if (pod) {
      const [which, res] = name.includes('.') ? name.split(/\.(.*)/s) : ['requests', name];
      if ((which !== 'requests' && which !== 'limits') || name === 'requests.storage') continue;
      const v = pod[which][res ?? ''];
      if (
        v !== undefined ||
        computeAliases.has(name) ||
        name.startsWith('requests.') ||
        name.startsWith('limits.')
      )
        out.set(name, v ?? 0);
    } else if (tracked.plural === 'services' && tracked.group === '') {
      const type = getPath(obj, ['spec', 'type']);
      if (name === 'services.nodeports' && (type === 'NodePort' || type === 'LoadBalancer'))
        out.set(name, asArray(getPath(obj, ['spec', 'ports'])).length * 1000);
      if (name === 'services.loadbalancers' && type === 'LoadBalancer') out.set(name, 1000);
    } else if (tracked.plural === 'persistentvolumeclaims' && tracked.group === '') {
      const storage = getPath(obj, ['spec', 'resources', 'requests', 'storage']);
      const cls = getPath(obj, ['spec', 'storageClassName']);
      const qty = typeof storage === 'string' || typeof storage === 'number' ? parseMilli(storage) : 0;
      if (name === 'requests.storage') out.set(name, qty);
      else if (typeof cls === 'string' && name === `${cls}.storageclass.storage.k8s.io/requests.storage`)
        out.set(name, qty);
      else if (
        typeof cls === 'string' &&
        name === `${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`
      )
        out.set(name, 1000);
    }
  }
  return out;
}

/**
 * Upstream's pod constraint: when a quota tracks cpu or memory, every
 * container must state it. Returns "must specify limits.cpu for: app; ..."
 * or undefined when nothing is missing.
 */
export function missingResources(pod: KubeObject, names: Iterable<string>): string | undefined {
  const required = [...names].filter((n) => mustSpecify.has(n));
  if (required.length === 0) return undefined;
  const spec = isObject(pod.spec) ? pod.spec : {};
  const missing = new Map<string, Set<string>>();
  for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
    const r = containerResources(c);
    for (const n of required) {
      const [which, res] = n.includes('.') ? n.split('.') : ['requests', n];
      if (r[which as 'requests' | 'limits'][res ?? ''] !== undefined) continue;
      const set = missing.get(n) ?? new Set<string>();
      set.add(String(c.name ?? ''));
      missing.set(n, set);
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()]
    .sort()
    .map((n) => `${n} for: ${[...(missing.get(n) ?? [])].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

/** Adds `b` into `a` (both milli-unit maps). */
export function addUsage(a: Usage, b: Usage): Usage {
  for (const [k, v] of b) a.set(k, (a.get(k) ?? 0) + v);
  return a;
}

const binarySuffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const decimalSuffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/**
 * A milli-unit amount as upstream's canonical Quantity string: `like` picks
 * the format (a binary suffix such as "1Gi" gives BinarySI, anything else
 * DecimalSI), e.g. 500 → "500m", 2_000_000 → "2k", 64 Mi·1000 → "64Mi".
 */
export function formatQuantity(milli: number, like = ''): string {
  if (milli === 0) return '0';
  if (milli % 1000 !== 0) return `${milli}m`;
  let v = milli / 1000;
  const binary = /[KMGTPE]i$/.test(like) && Math.abs(v) >= 1024;
  const base = binary ? 1024 : 1000;
  const suffixes = binary ? binarySuffixes : decimalSuffixes;
  let i = 0;
  while (i < suffixes.length - 1 && v !== 0 && v % base === 0) {
    v /= base;
    i++;
  }
  return `${v}${suffixes[i]}`;
}

/** A Usage as a ResourceList of canonical strings, formatted like the matching `hard` entries. */
export function formatUsage(u: Usage, hard: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of [...u].sort(([a], [b]) => a.localeCompare(b)))
    out[k] = formatQuantity(v, String(hard[k] ?? ''));
  return out;
}
