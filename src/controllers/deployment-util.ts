import type { Condition, Deployment, ReplicaSet } from '../client/index.ts';
import { canonicalJsonOf } from './canonical-json.ts';

/** Annotation and label keys the deployment controller and kubectl share. */
export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const podTemplateHashLabel = 'pod-template-hash';

/** Deployment annotations never copied to its ReplicaSets (upstream's skipCopyAnnotation). */
const skipCopy = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  'deprecated.deployment.rollback.to',
]);

export const replicasOf = (o: Deployment | ReplicaSet): number => Number(o.spec?.replicas ?? 1);
export const statusNum = (o: Deployment | ReplicaSet, field: string): number =>
  Number(o.status?.[field] ?? 0);
export const revisionOf = (rs: ReplicaSet): number =>
  Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0) || 0;
const created = (o: ReplicaSet): number => Date.parse(o.metadata.creationTimestamp ?? '') || 0;

/** Oldest first, then by name (upstream's ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return created(a) - created(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** `n` or `"n%"` of `total` (upstream's GetScaledValueFromIntOrPercent). */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number(v ?? 0) || 0;
}

export const isRollingUpdate = (d: Deployment): boolean =>
  ((d.spec?.strategy as { type?: string } | undefined)?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** maxSurge rounded up, maxUnavailable rounded down; both 0 becomes unavailable 1. */
function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = ((d.spec?.strategy as { rollingUpdate?: Record<string, unknown> } | undefined)?.rollingUpdate ??
    {}) as { maxSurge?: unknown; maxUnavailable?: unknown };
  const want = replicasOf(d);
  const surge = scaledValue(ru.maxSurge ?? '25%', want, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', want, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicasOf(d));
}

/** A copy without null members: JSON null and absent are the same field value (Go's zero values). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, withoutNulls(x)]),
  );
}

/** A template compared without its pod-template-hash label (and nulls: `creationTimestamp: null`). */
function templateKey(t: unknown): string {
  const copy = withoutNulls(t ?? {}) as { metadata?: { labels?: Record<string, string> } };
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[podTemplateHashLabel];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return canonicalJsonOf(copy);
}

export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return templateKey(a) === templateKey(b);
}

const safeChars = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The pod-template-hash: FNV-1a (32 bit) of the template and the collision
 * count, its decimal digits mapped through upstream's SafeEncodeString
 * alphabet. Upstream hashes Go's spew dump of the struct, which no other
 * language reproduces; this is stable for equal templates.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let h = 0x811c9dc5;
  let text = canonicalJsonOf(withoutNulls(template ?? {}));
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  for (const byte of Buffer.from(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h >>> 0)].map((c) => safeChars[c.charCodeAt(0) % safeChars.length]).join('');
}

export function getCondition(
  status: Record<string, unknown> | undefined,
  type: string,
): Condition | undefined {
  return ((status?.conditions ?? []) as Condition[]).find((c) => c.type === type);
}

/**
 * Sets a condition the way upstream does: unchanged status and reason keep the
 * existing one; a changed reason with the same status keeps lastTransitionTime.
 */
export function setCondition(status: Record<string, unknown>, cond: Condition): void {
  const list = (status.conditions ?? []) as Condition[];
  const cur = list.find((c) => c.type === cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  if (cur && cur.status === cond.status) cond.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...list.filter((c) => c.type !== cond.type), cond];
}

export function removeCondition(status: Record<string, unknown>, type: string): void {
  const list = (status.conditions ?? []) as Condition[];
  const next = list.filter((c) => c.type !== type);
  if (next.length > 0) status.conditions = next;
  else delete status.conditions;
}

export function newCondition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  now: string,
): Condition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/**
 * Copies the deployment's annotations to its new ReplicaSet and raises the
 * RS revision to `revision` (upstream's SetNewReplicaSetAnnotations). A new RS
 * also gets desired/max replicas. Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  revision: number,
  exists: boolean,
): boolean {
  const ann = { ...rs.metadata.annotations };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (skipCopy.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const old = ann[revisionAnnotation];
  if ((Number(old ?? 0) || 0) < revision) {
    ann[revisionAnnotation] = String(revision);
    changed = true;
    if (old) {
      const history = ann[revisionHistoryAnnotation];
      ann[revisionHistoryAnnotation] = history ? `${history},${old}` : old;
    }
  }
  if (!exists) {
    ann[desiredReplicasAnnotation] = String(replicasOf(d));
    ann[maxReplicasAnnotation] = String(replicasOf(d) + maxSurge(d));
    changed = true;
  }
  rs.metadata.annotations = ann;
  return changed;
}

/** Whether desired/max replicas annotations differ from the deployment's. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, d: Deployment): boolean {
  const ann = rs.metadata.annotations ?? {};
  return (
    ann[desiredReplicasAnnotation] !== String(replicasOf(d)) ||
    ann[maxReplicasAnnotation] !== String(replicasOf(d) + maxSurge(d))
  );
}

export function setReplicasAnnotations(rs: ReplicaSet, d: Deployment): void {
  rs.metadata.annotations = {
    ...rs.metadata.annotations,
    [desiredReplicasAnnotation]: String(replicasOf(d)),
    [maxReplicasAnnotation]: String(replicasOf(d) + maxSurge(d)),
  };
}

export const sumSpec = (rss: readonly ReplicaSet[]): number => rss.reduce((n, rs) => n + replicasOf(rs), 0);
export const sumStatus = (rss: readonly ReplicaSet[], field: string): number =>
  rss.reduce((n, rs) => n + statusNum(rs, field), 0);
export const active = (rss: readonly ReplicaSet[]): ReplicaSet[] => rss.filter((rs) => replicasOf(rs) > 0);

export const hasProgressDeadline = (d: Deployment): boolean => {
  const s = d.spec?.progressDeadlineSeconds;
  return typeof s === 'number' && s !== 2147483647;
};

/** All replicas updated, running and available, for the latest generation. */
export function isComplete(d: Deployment, status: Record<string, unknown>): boolean {
  const want = replicasOf(d);
  return (
    status.updatedReplicas === want &&
    status.replicas === want &&
    status.availableReplicas === want &&
    Number(status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** More updated, fewer old, more ready or more available replicas than last time. */
export function isProgressing(d: Deployment, status: Record<string, unknown>): boolean {
  const n = (s: Record<string, unknown> | undefined, f: string) => Number(s?.[f] ?? 0);
  const old = d.status;
  return (
    n(status, 'updatedReplicas') > n(old, 'updatedReplicas') ||
    n(status, 'replicas') - n(status, 'updatedReplicas') < n(old, 'replicas') - n(old, 'updatedReplicas') ||
    n(status, 'readyReplicas') > n(old, 'readyReplicas') ||
    n(status, 'availableReplicas') > n(old, 'availableReplicas')
  );
}
