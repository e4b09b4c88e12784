import type { Deployment, ReplicaSet } from '../client/index.ts';
import {
  active,
  byCreation,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  maxReplicasAnnotation,
  maxSurge,
  maxUnavailable,
  newCondition,
  replicasOf,
  revisionOf,
  setCondition,
  statusNum,
  sumSpec,
  sumStatus,
} from './deployment-util.ts';

/** What the rollout steps need from the controller: the deployment and a way to scale a ReplicaSet. */
export interface RolloutOps {
  d: Deployment;
  /** Sets spec.replicas (and the desired/max annotations); returns the stored ReplicaSet. */
  scale(rs: ReplicaSet, replicas: number): Promise<ReplicaSet>;
}

/**
 * Available replicas a ReplicaSet can be counted on for: never more than its
 * spec. Right after a scale-down its status still counts the pods about to be
 * deleted; trusting that would let the next step scale down too far.
 */
function dependableAvailable(rs: ReplicaSet): number {
  return Math.min(statusNum(rs, 'availableReplicas'), replicasOf(rs));
}

/** Replicas the new ReplicaSet may have now (upstream's NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = sumSpec(allRSs);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/** Scales the new ReplicaSet up within maxSurge (or down to spec.replicas). */
export async function reconcileNewReplicaSet(
  ops: RolloutOps,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): Promise<boolean> {
  const want = replicasOf(ops.d);
  if (replicasOf(newRS) === want) return false;
  if (replicasOf(newRS) > want) {
    await ops.scale(newRS, want);
    return true;
  }
  const n = newRSNewReplicas(ops.d, allRSs, newRS);
  if (n === replicasOf(newRS)) return false;
  await ops.scale(newRS, n);
  return true;
}

/**
 * Scales old ReplicaSets down without going below spec.replicas - maxUnavailable
 * available pods: first their unhealthy replicas, then healthy ones, oldest first.
 */
export async function reconcileOldReplicaSets(
  ops: RolloutOps,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): Promise<boolean> {
  if (sumSpec(oldRSs) === 0) return false;
  const d = ops.d;
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - dependableAvailable(newRS);
  const maxScaledDown = sumSpec(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  // Unhealthy replicas first: they do not count towards availability anyway.
  const olds = [...oldRSs].sort(byCreation);
  let cleaned = 0;
  for (let i = 0; i < olds.length; i++) {
    const rs = olds[i] as ReplicaSet;
    if (cleaned >= maxScaledDown) break;
    const unhealthy = replicasOf(rs) - dependableAvailable(rs);
    if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    olds[i] = await ops.scale(rs, replicasOf(rs) - down);
    cleaned += down;
  }
  // Then healthy ones, as far as availability allows.
  const available = [...olds, newRS].reduce((n, rs) => n + dependableAvailable(rs), 0);
  let scaled = 0;
  if (available > minAvailable) {
    const total = available - minAvailable;
    for (const rs of olds) {
      if (scaled >= total) break;
      if (replicasOf(rs) === 0) continue;
      const down = Math.min(replicasOf(rs), total - scaled);
      await ops.scale(rs, replicasOf(rs) - down);
      scaled += down;
    }
  }
  return cleaned + scaled > 0;
}

/** The only active ReplicaSet, or the newest when none is active (upstream's FindActiveOrLatest). */
function activeOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort(byCreation).reverse();
  const all = active(newRS ? [...olds, newRS] : olds);
  if (all.length === 0) return newRS ?? olds[0];
  if (all.length === 1) return all[0];
  return undefined;
}

function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = Number(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'] ?? NaN);
  return desired === replicasOf(d) && statusNum(rs, 'availableReplicas') === replicasOf(d);
}

/**
 * A scaling event (spec.replicas changed, or paused): spreads the difference
 * over the active ReplicaSets in proportion to their size (upstream's scale()),
 * so a scale in the middle of a rollout keeps its shape.
 */
export async function scaleProportionally(
  ops: RolloutOps,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): Promise<void> {
  const d = ops.d;
  const only = activeOrLatest(newRS, oldRSs);
  if (only) {
    if (replicasOf(only) !== replicasOf(d)) await ops.scale(only, replicasOf(d));
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const rs of active(oldRSs)) await ops.scale(rs, 0);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = active(newRS ? [...oldRSs, newRS] : oldRSs);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - sumSpec(all);
  // Larger first; on ties newer first when adding, older first when removing.
  all.sort((a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? -byCreation(a, b) : byCreation(a, b)));
  const sizes = new Map<ReplicaSet, number>();
  let added = 0;
  for (const rs of all) {
    let p = 0;
    if (toAdd !== 0 && replicasOf(rs) > 0 && toAdd !== added) {
      const fraction = replicaSetFraction(rs, d);
      p = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
    }
    sizes.set(rs, replicasOf(rs) + p);
    added += p;
  }
  const first = all[0];
  if (first && added !== toAdd) sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
  for (const rs of all) await ops.scale(rs, sizes.get(rs) ?? replicasOf(rs));
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = Number(rs.metadata.annotations?.[maxReplicasAnnotation] ?? NaN);
  const base = Number.isFinite(annotated) && annotated > 0 ? annotated : statusNum(d, 'replicas');
  if (base === 0) return 0;
  return Math.round((replicasOf(rs) * deploymentReplicas) / base) - replicasOf(rs);
}

/** Old ReplicaSets beyond revisionHistoryLimit that are fully scaled down, oldest revision first. */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (typeof limit !== 'number') return [];
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  alive.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return alive
    .slice(0, diff)
    .filter(
      (rs) =>
        statusNum(rs, 'replicas') === 0 &&
        replicasOf(rs) === 0 &&
        (rs.metadata.generation ?? 0) <= statusNum(rs, 'observedGeneration'),
    );
}

/** The deployment's status from its ReplicaSets (upstream's calculateStatus). */
export function calculateStatus(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  now: string,
): Record<string, unknown> {
  const available = sumStatus(allRSs, 'availableReplicas');
  const status: Record<string, unknown> = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sumStatus(allRSs, 'replicas'),
    updatedReplicas: newRS ? statusNum(newRS, 'replicas') : 0,
    readyReplicas: sumStatus(allRSs, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumSpec(allRSs) - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (Array.isArray(d.status?.conditions)) status.conditions = structuredClone(d.status.conditions);
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition(
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
        now,
      ),
    );
  } else {
    setCondition(
      status,
      newCondition(
        'Available',
        'False',
        'MinimumReplicasUnavailable',
        'Deployment does not have minimum availability.',
        now,
      ),
    );
  }
  return status;
}

/** Whether the Progressing condition's last update is older than progressDeadlineSeconds. */
export function isTimedOut(d: Deployment, status: Record<string, unknown>, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(status, 'Progressing');
  if (!c) return false;
  if (c.reason === 'NewReplicaSetAvailable') return false;
  if (c.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(String(c.lastUpdateTime ?? ''));
  return from + Number(d.spec?.progressDeadlineSeconds) * 1000 < now;
}
