import type { Condition, Node, Taint, Toleration } from '../client/index.ts';
import { tolerates } from '../scheduler/plugins/taint-toleration.ts';
import { timestamp } from './controller.ts';

/** The taint keys the node lifecycle controller owns (upstream's well-known node taints). */
export const taintKeys = {
  notReady: 'node.kubernetes.io/not-ready',
  unreachable: 'node.kubernetes.io/unreachable',
  unschedulable: 'node.kubernetes.io/unschedulable',
  memoryPressure: 'node.kubernetes.io/memory-pressure',
  diskPressure: 'node.kubernetes.io/disk-pressure',
  pidPressure: 'node.kubernetes.io/pid-pressure',
  networkUnavailable: 'node.kubernetes.io/network-unavailable',
} as const;

const owned = new Set<string>(Object.values(taintKeys));

export function nodeCondition(node: Node, type: string): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/**
 * The taints the node's conditions call for (upstream's TaintNodeByCondition
 * NoSchedule taints and the taint-based-eviction NoExecute taints): Ready
 * False → not-ready, Ready Unknown (or absent) → unreachable, pressure
 * conditions True → their NoSchedule taint, spec.unschedulable → unschedulable.
 */
export function wantedTaints(node: Node): Taint[] {
  const ready = nodeCondition(node, 'Ready')?.status ?? 'Unknown';
  const out: Taint[] = [];
  const add = (key: string, effect: Taint['effect']) => out.push({ key, effect });
  if (ready === 'False') {
    add(taintKeys.notReady, 'NoSchedule');
    add(taintKeys.notReady, 'NoExecute');
  } else if (ready === 'Unknown') {
    add(taintKeys.unreachable, 'NoSchedule');
    add(taintKeys.unreachable, 'NoExecute');
  }
  const pressure: [string, string][] = [
    ['MemoryPressure', taintKeys.memoryPressure],
    ['DiskPressure', taintKeys.diskPressure],
    ['PIDPressure', taintKeys.pidPressure],
    ['NetworkUnavailable', taintKeys.networkUnavailable],
  ];
  for (const [type, key] of pressure)
    if (nodeCondition(node, type)?.status === 'True') add(key, 'NoSchedule');
  if (node.spec?.unschedulable) add(taintKeys.unschedulable, 'NoSchedule');
  return out;
}

const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;

/**
 * The node's taints with the controller-owned ones replaced by `wanted`:
 * taints the node keeps keep their timeAdded, new NoExecute taints get `now`.
 * Undefined when nothing changes.
 */
export function reconcileTaints(node: Node, wanted: Taint[], now: number): Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const foreign = current.filter((t) => !owned.has(t.key));
  const mine = current.filter((t) => owned.has(t.key));
  const stale = mine.some((t) => !wanted.some((w) => same(w, t)));
  const missing = wanted.filter((w) => !mine.some((t) => same(w, t)));
  if (!stale && missing.length === 0) return undefined;
  const kept = mine.filter((t) => wanted.some((w) => same(w, t)));
  const added = missing.map((t) => (t.effect === 'NoExecute' ? { ...t, timeAdded: timestamp(now) } : t));
  return [...foreign, ...kept, ...added];
}

export interface EvictionVerdict {
  /** Delete the pod now (an untolerated NoExecute taint). */
  now: boolean;
  /** Otherwise: when its shortest toleration runs out (ms since the epoch); undefined = tolerated forever. */
  at?: number;
}

/**
 * What the NoExecute taints of a node mean for a pod (upstream's taint
 * manager): any untolerated → evict now; else evict when the shortest
 * tolerationSeconds among the tolerations used runs out, counted from when
 * the taint was added or the pod created, whichever is later.
 */
export function evictionVerdict(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  podCreated: number,
): EvictionVerdict {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  let at: number | undefined;
  for (const taint of noExecute) {
    const used = tolerations.filter((tol) => tolerates(tol, taint));
    if (used.length === 0) return { now: true };
    const added = Date.parse(String(taint.timeAdded ?? '')) || 0;
    const since = Math.max(added, podCreated);
    for (const tol of used) {
      if (typeof tol.tolerationSeconds !== 'number') continue;
      const end = since + Math.max(0, tol.tolerationSeconds) * 1000;
      at = at === undefined ? end : Math.min(at, end);
    }
  }
  return at === undefined ? { now: false } : { now: false, at };
}
