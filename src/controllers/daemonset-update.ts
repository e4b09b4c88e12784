import type { DaemonSet, Pod } from '../client/index.ts';
import { byAge, type Eligibility, revisionHashLabel } from './daemonset-pods.ts';
import { scaledValue } from './deployment-util.ts';
import { isPodAvailable, isPodReady } from './pod-status.ts';

interface RollingUpdate {
  maxUnavailable?: unknown;
  maxSurge?: unknown;
}

const strategyOf = (ds: DaemonSet) =>
  (ds.spec?.updateStrategy ?? {}) as { type?: string; rollingUpdate?: RollingUpdate };

export const isRollingUpdate = (ds: DaemonSet): boolean =>
  (strategyOf(ds).type ?? 'RollingUpdate') === 'RollingUpdate';

/** maxSurge and maxUnavailable of `desired` nodes, both rounded up; both 0 means unavailable 1 (upstream). */
export function surgeAndUnavailable(ds: DaemonSet, desired: number): { surge: number; unavailable: number } {
  const ru = strategyOf(ds).rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export const isUpdated = (pod: Pod, hash: string): boolean =>
  pod.metadata.labels?.[revisionHashLabel] === hash;

/** The one updated and one old live pod on a node; undefined when there are more (manage fixes that first). */
function updatedAndOld(pods: Pod[], hash: string): { next?: Pod; old?: Pod } | undefined {
  let next: Pod | undefined;
  let old: Pod | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (isUpdated(p, hash)) {
      if (next) return undefined;
      next = p;
    } else {
      if (old) return undefined;
      old = p;
    }
  }
  return { next, old };
}

export interface UpdatePlan {
  /** Old pods to delete now. */
  remove: Pod[];
  /** Nodes to surge a new pod onto. */
  create: string[];
}

export interface UpdateInput {
  ds: DaemonSet;
  /** Pods per node, for nodes that should run the daemon. */
  nodeToPods: Map<string, Pod[]>;
  hash: string;
  desired: number;
  now: number;
}

/**
 * One step of upstream's DaemonSet rolling update. Without surge: delete old
 * pods while fewer than maxUnavailable nodes lack an available pod (old pods
 * that are not available go first, and always). With surge: start an updated
 * pod beside old ones on up to maxSurge nodes at once and delete the old pod
 * once the new one is available.
 */
export function rollingUpdate(i: UpdateInput): UpdatePlan {
  const { surge, unavailable } = surgeAndUnavailable(i.ds, i.desired);
  const minReady = Number(i.ds.spec?.minReadySeconds ?? 0);
  const available = (p: Pod) => isPodAvailable(p, minReady, i.now);
  const nodes = [...i.nodeToPods.keys()].sort();
  if (surge === 0) {
    let numUnavailable = 0;
    const allowed: Pod[] = [];
    const candidates: Pod[] = [];
    for (const node of nodes) {
      const found = updatedAndOld(i.nodeToPods.get(node) ?? [], i.hash);
      if (!found || (!found.next && !found.old) || (found.next && found.old)) {
        numUnavailable++;
        continue;
      }
      if (found.next) {
        if (!available(found.next)) numUnavailable++;
        continue;
      }
      const old = found.old as Pod;
      if (!available(old)) {
        allowed.push(old);
        numUnavailable++;
      } else if (numUnavailable < unavailable) candidates.push(old);
    }
    const room = Math.min(Math.max(0, unavailable - numUnavailable), candidates.length);
    return { remove: [...allowed, ...candidates.slice(0, room)], create: [] };
  }
  let numSurge = 0;
  const remove: Pod[] = [];
  const allowedNodes: string[] = [];
  const candidateNodes: string[] = [];
  for (const node of nodes) {
    const found = updatedAndOld(i.nodeToPods.get(node) ?? [], i.hash);
    if (!found) {
      numSurge++;
      continue;
    }
    if (!found.old) continue;
    if (!found.next) {
      if (!available(found.old)) allowedNodes.push(node);
      else if (numSurge < surge) candidateNodes.push(node);
      continue;
    }
    if (!available(found.next)) {
      numSurge++;
      continue;
    }
    remove.push(found.old);
  }
  const room = Math.min(Math.max(0, surge - numSurge), candidateNodes.length);
  return { remove, create: [...allowedNodes, ...candidateNodes.slice(0, room)] };
}

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
  collisionCount?: number;
  conditions?: unknown[];
}

/** Upstream's updateDaemonSetStatus counts, from each node's eligibility and its oldest pod. */
export function daemonSetStatus(
  ds: DaemonSet,
  nodes: { name: string; eligibility: Eligibility }[],
  nodeToPods: Map<string, Pod[]>,
  hash: string,
  now: number,
): DaemonSetStatus {
  const minReady = Number(ds.spec?.minReadySeconds ?? 0);
  const s: DaemonSetStatus = {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
    observedGeneration: ds.metadata.generation ?? 0,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
  };
  for (const { name, eligibility } of nodes) {
    const pods = [...(nodeToPods.get(name) ?? [])].sort(byAge);
    const scheduled = pods.length > 0;
    if (eligibility.shouldRun) {
      s.desiredNumberScheduled++;
      const pod = pods[0];
      if (!pod) continue;
      s.currentNumberScheduled++;
      if (isPodReady(pod)) {
        s.numberReady++;
        if (isPodAvailable(pod, minReady, now)) s.numberAvailable++;
      }
      if (isUpdated(pod, hash)) s.updatedNumberScheduled++;
    } else if (scheduled) s.numberMisscheduled++;
  }
  s.numberUnavailable = Math.max(0, s.desiredNumberScheduled - s.numberAvailable);
  const collisions = ds.status?.collisionCount;
  if (typeof collisions === 'number') s.collisionCount = collisions;
  const conds = ds.status?.conditions;
  if (Array.isArray(conds) && conds.length > 0) s.conditions = conds;
  return s;
}
