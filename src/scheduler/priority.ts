import type { KubeObject, Pod } from '../client/index.ts';
import { specOf } from './types.ts';

export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
}

/**
 * Sets spec.priority (and preemptionPolicy) from the pod's PriorityClass, so
 * queue order and preemption see the class's value even where the API
 * server's Priority admission has not resolved it (upstream's admission sets
 * spec.priority from the class at create; a server that stores 0 instead would
 * otherwise disable preemption). Without a class name the global default class
 * applies when spec.priority is unset. Returns the pod itself when nothing
 * changes, else a copy (cache objects are never modified).
 */
export function resolvePriority(pod: Pod, classes: { list(): PriorityClass[] } | undefined): Pod {
  const spec = specOf(pod);
  if (!classes || !pod.spec || (spec.priority !== undefined && !spec.priorityClassName)) return pod;
  const all = classes.list();
  const pc = spec.priorityClassName
    ? all.find((c) => c.metadata.name === spec.priorityClassName)
    : all.find((c) => c.globalDefault);
  if (!pc || pc.value === spec.priority) return pod;
  return {
    ...pod,
    spec: { ...pod.spec, priority: pc.value, preemptionPolicy: spec.preemptionPolicy ?? pc.preemptionPolicy },
  };
}
