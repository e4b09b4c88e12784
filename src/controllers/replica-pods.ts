import type { OwnerReference } from '../api/types.ts';
import type { Condition, Pod, ReplicaSet } from '../client/index.ts';
import { isPodAvailable, isPodReady, readySince, restartCount } from './pod-status.ts';

/** Upstream's burstReplicas: the most pods one sync creates or deletes. */
export const burstReplicas = 500;

/** A pod from a workload's template, owned by `ref` (upstream's GetPodFromTemplate). */
export function podFromTemplate(rs: ReplicaSet, ref: OwnerReference): Pod {
  const tmpl = rs.spec?.template ?? {};
  const meta = tmpl.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name ?? ''}-`,
      namespace: rs.metadata.namespace,
      labels: { ...meta.labels },
      ownerReferences: [ref],
    },
    spec: structuredClone(tmpl.spec ?? { containers: [] }),
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, ... (upstream's slowStartBatch),
 * stopping after the first batch with a failure so a rejected template costs one
 * call, not hundreds. Returns how many succeeded and the first error.
 */
export async function slowStartBatch(
  count: number,
  fn: () => Promise<unknown>,
): Promise<{ ok: number; err?: unknown }> {
  let remaining = count;
  let batch = Math.min(1, count);
  let ok = 0;
  while (batch > 0) {
    const results = await Promise.allSettled(Array.from({ length: batch }, fn));
    const failed = results.filter((r) => r.status === 'rejected');
    ok += batch - failed.length;
    if (failed[0]) return { ok, err: failed[0].reason };
    remaining -= batch;
    batch = Math.min(2 * batch, remaining);
  }
  return { ok };
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The `n` pods to delete first (upstream's getPodsToDelete ranking): unscheduled
 * before scheduled, Pending before Unknown before Running, not ready before
 * ready, pods doubled up on a node before lone ones, recently ready before long
 * ready, more restarts before fewer, newer before older.
 */
export function podsToDelete(pods: readonly Pod[], n: number): Pod[] {
  if (n >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: Pod) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  const sorted = [...pods].sort((a, b) => {
    const sa = a.spec?.nodeName ? 1 : 0;
    const sb = b.spec?.nodeName ? 1 : 0;
    if (sa !== sb) return sa - sb;
    const pa = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
    const pb = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ra && rb && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    if (restartCount(a) !== restartCount(b)) return restartCount(b) - restartCount(a);
    const ca = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const cb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    return cb - ca;
  });
  return sorted.slice(0, n);
}

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration: number;
  conditions?: Condition[];
}

/** Status of a ReplicaSet/ReplicationController from the pods it controls. */
export function replicaStatus(
  rs: ReplicaSet,
  pods: readonly Pod[],
  now: number,
  failure: Condition | undefined,
): ReplicaStatus {
  const tmplLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = Number(rs.spec?.minReadySeconds ?? 0);
  const fully = pods.filter((p) =>
    Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
  ).length;
  const status: ReplicaStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: pods.filter(isPodReady).length,
    availableReplicas: pods.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 0,
  };
  const others = ((rs.status?.conditions ?? []) as Condition[]).filter((c) => c.type !== 'ReplicaFailure');
  const conditions = failure ? [...others, failure] : others;
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}
