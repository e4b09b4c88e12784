/**
 * How pod containers are named and labelled in the engine, the way the
 * kubelet's docker integration (dockershim) did, so `docker ps` on a node
 * reads the same: `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>` and
 * io.kubernetes.* labels. The labels are the agent's only record of what it
 * started: after a restart it rebuilds everything from them.
 */
import type { Labels } from '../engine/types.ts';

export const labelPodName = 'io.kubernetes.pod.name';
export const labelPodNamespace = 'io.kubernetes.pod.namespace';
export const labelPodUid = 'io.kubernetes.pod.uid';
export const labelContainerName = 'io.kubernetes.container.name';
/** Which start of this container this is (0 first); dockershim kept it as an annotation label. */
export const labelAttempt = 'io.kubernetes.container.restartCount';
/** "init" or "app". */
export const labelContainerType = 'io.drover.container.type';
/** Marks the engine objects the agent owns (and only those are garbage-collected). */
export const labelManaged = 'io.drover.agent';

export interface PodRef {
  name: string;
  namespace: string;
  uid: string;
}

export function containerName(pod: PodRef, container: string, attempt: number): string {
  return `k8s_${container}_${pod.name}_${pod.namespace}_${pod.uid}_${attempt}`;
}

export function containerLabels(
  pod: PodRef,
  container: string,
  attempt: number,
  type: 'init' | 'app',
): Labels {
  return {
    [labelPodName]: pod.name,
    [labelPodNamespace]: pod.namespace,
    [labelPodUid]: pod.uid,
    [labelContainerName]: container,
    [labelAttempt]: String(attempt),
    [labelContainerType]: type,
    [labelManaged]: 'true',
  };
}

/** The pod a labelled container belongs to, or undefined for a container that is not ours. */
export function podRefOf(labels: Labels | null | undefined): PodRef | undefined {
  if (labels?.[labelManaged] !== 'true') return undefined;
  const name = labels[labelPodName];
  const namespace = labels[labelPodNamespace];
  const uid = labels[labelPodUid];
  return name && namespace && uid ? { name, namespace, uid } : undefined;
}

export function podKey(ref: { name: string; namespace: string }): string {
  return `${ref.namespace}/${ref.name}`;
}
