import type { Condition, Pod } from '../client/index.ts';

/** Pods a workload counts: not terminated (Succeeded/Failed) and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function readyCondition(pod: Pod): Condition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready, in ms since the epoch (0 when unknown). */
export function readySince(pod: Pod): number {
  const t = readyCondition(pod)?.lastTransitionTime;
  return t ? Date.parse(t) : 0;
}

/**
 * Ready for at least `minReadySeconds` at `now` (upstream's IsPodAvailable):
 * with minReadySeconds 0, ready is available.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since > 0 && since + minReadySeconds * 1000 <= now;
}

export function restartCount(pod: Pod): number {
  const statuses = (pod.status?.containerStatuses ?? []) as { restartCount?: number }[];
  return statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
}
