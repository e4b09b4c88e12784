/**
 * A StatefulSet's pods and claims by ordinal (upstream's stateful_set_utils):
 * pod `<set>-<ordinal>` with hostname = its name and subdomain = the governing
 * Service (so cluster DNS answers `<set>-<n>.<service>`), the pod-name and
 * pod-index labels, and one PersistentVolumeClaim per volumeClaimTemplate,
 * `<template>-<set>-<ordinal>`, mounted as the volume of the template's name.
 */
import type { OwnerReference } from '../api/types.ts';
import type { KubeObject, Pod, StatefulSet } from '../client/index.ts';
import { controllerRevisionHashLabel, type PodTemplate } from './controller-revision.ts';
import { newControllerRef } from './owner-refs.ts';
import { isPodReady } from './pod-status.ts';

export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

export interface Claim extends KubeObject {
  spec?: {
    accessModes?: string[];
    resources?: { requests?: Record<string, string> };
    storageClassName?: string;
    volumeName?: string;
    selector?: unknown;
    volumeMode?: string;
  };
  status?: { phase?: string; [k: string]: unknown };
}

interface PodVolume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [k: string]: unknown;
}

/** `<parent>-<ordinal>` split; undefined for names that are not a set member's. */
export function parseOrdinal(name: string): { parent: string; ordinal: number } | undefined {
  const m = /^(.*)-(\d+)$/.exec(name);
  if (!m?.[1] || m[2] === undefined) return undefined;
  return { parent: m[1], ordinal: Number(m[2]) };
}

/** The ordinal of a member of `set`, or -1. */
export function ordinalOf(set: StatefulSet, pod: Pod): number {
  const p = parseOrdinal(pod.metadata.name ?? '');
  return p && p.parent === set.metadata.name ? p.ordinal : -1;
}

export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata.name ?? ''}-${ordinal}`;

export function claimTemplates(set: StatefulSet): Claim[] {
  return (set.spec?.volumeClaimTemplates as Claim[] | undefined) ?? [];
}

export const claimName = (template: Claim, set: StatefulSet, ordinal: number): string =>
  `${template.metadata.name ?? ''}-${podName(set, ordinal)}`;

/** The claims pod `ordinal` needs, by template volume name. */
export function claimsFor(set: StatefulSet, ordinal: number): Map<string, Claim> {
  const out = new Map<string, Claim>();
  const selectorLabels = set.spec?.selector?.matchLabels ?? {};
  for (const t of claimTemplates(set)) {
    const claim: Claim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(t, set, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(t.metadata.labels ?? {}), ...selectorLabels },
      },
      spec: structuredClone(t.spec ?? {}),
    };
    if (t.metadata.annotations) claim.metadata.annotations = { ...t.metadata.annotations };
    out.set(t.metadata.name ?? '', claim);
  }
  return out;
}

/**
 * Pod `ordinal` of `set` from `template` (the current or the update revision's),
 * labelled with `revision`, owned by the set.
 */
export function newSetPod(set: StatefulSet, template: PodTemplate, ordinal: number, revision: string): Pod {
  const name = podName(set, ordinal);
  const meta = template.metadata ?? {};
  const spec = structuredClone(template.spec ?? { containers: [] });
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: {
        ...(meta.labels ?? {}),
        [podNameLabel]: name,
        [podIndexLabel]: String(ordinal),
        [controllerRevisionHashLabel]: revision,
      },
      ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
    },
    spec,
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  spec.hostname = name;
  const service = set.spec?.serviceName;
  if (typeof service === 'string' && service) spec.subdomain = service;
  const claims = claimsFor(set, ordinal);
  const volumes = ((spec.volumes as PodVolume[] | undefined) ?? []).filter((v) => !claims.has(v.name));
  for (const [volume, claim] of claims)
    volumes.push({ name: volume, persistentVolumeClaim: { claimName: claim.metadata.name ?? '' } });
  if (volumes.length > 0) spec.volumes = volumes;
  return pod;
}

/** Whether the pod carries its identity labels (upstream's identityMatches, for what can change). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const ord = ordinalOf(set, pod);
  return (
    ord >= 0 &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[podNameLabel] === pod.metadata.name &&
    pod.metadata.labels?.[podIndexLabel] === String(ord)
  );
}

/** The merge patch that restores the pod's identity labels. */
export function identityPatch(set: StatefulSet, pod: Pod): Record<string, unknown> {
  return {
    metadata: {
      labels: { [podNameLabel]: pod.metadata.name ?? '', [podIndexLabel]: String(ordinalOf(set, pod)) },
    },
  };
}

export const revisionOfPod = (pod: Pod): string => pod.metadata.labels?.[controllerRevisionHashLabel] ?? '';

export const isTerminating = (pod: Pod): boolean => Boolean(pod.metadata.deletionTimestamp);
export const isFinished = (pod: Pod): boolean =>
  pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);
export const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/** Highest ordinal first (the order pods are removed and updated in). */
export function descendingOrdinal(set: StatefulSet): (a: Pod, b: Pod) => number {
  return (a, b) => ordinalOf(set, b) - ordinalOf(set, a);
}

/**
 * The owner references a claim should carry under the set's
 * persistentVolumeClaimRetentionPolicy (upstream's, enforced by the garbage
 * collector): whenDeleted Delete makes the set an owner; whenScaled Delete
 * makes the pod of a condemned ordinal (one past the replicas) an owner, so
 * removing that pod removes its claim. Other owners are kept.
 */
export function claimOwnerRefs(
  set: StatefulSet,
  claim: Claim,
  pod: Pod | undefined,
  condemned: boolean,
): OwnerReference[] {
  const policy = (set.spec?.persistentVolumeClaimRetentionPolicy ?? {}) as {
    whenDeleted?: string;
    whenScaled?: string;
  };
  const podName = pod?.metadata.name;
  const refs = (claim.metadata.ownerReferences ?? []).filter(
    (r) => r.uid !== set.metadata.uid && !(r.kind === 'Pod' && r.name === podName),
  );
  if (policy.whenDeleted === 'Delete')
    refs.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: set.metadata.name ?? '',
      uid: set.metadata.uid ?? '',
    });
  if (policy.whenScaled === 'Delete' && condemned && pod?.metadata.uid)
    refs.push({ apiVersion: 'v1', kind: 'Pod', name: podName ?? '', uid: pod.metadata.uid });
  return refs;
}
