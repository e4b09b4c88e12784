import type { Pod } from '../../client/index.ts';
import type { QueuedPod } from '../queue.ts';

export const name = 'PrioritySort';

/** A pod's priority: spec.priority (resolved from its PriorityClass when it was queued), else 0. */
export function priorityOf(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** QueueSort: higher priority first, then the pod that has waited longest. */
export function less(a: QueuedPod, b: QueuedPod): boolean {
  const pa = priorityOf(a.pod);
  const pb = priorityOf(b.pod);
  return pa !== pb ? pa > pb : a.timestamp < b.timestamp;
}
