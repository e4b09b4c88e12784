import type { KubeObject, Pod } from '../client/index.ts';
import { specOf } from './types.ts';

export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
}

/**
 * Fills in spec.priority (and preemptionPolicy) from the pod's PriorityClass
 * when the API server's admission has not, so queue order and preemption see
 * the same number. Returns the pod itself when nothing changes, else a copy
 * (cache objects are never modified).
 */
export function resolvePriority(pod: Pod, classes: { list(): PriorityClass[] } | undefined): Pod {
  const spec = specOf(pod);
  if (spec.priority !== undefined || !classes || !pod.spec) return pod;
  const all = classes.list();
  const pc = spec.priorityClassName
    ? all.find((c) => c.metadata.name === spec.priorityClassName)
    : all.find((c) => c.globalDefault);
  if (!pc) return pod;
  return {
    ...pod,
    spec: { ...pod.spec, priority: pc.value, preemptionPolicy: spec.preemptionPolicy ?? pc.preemptionPolicy },
  };
}
