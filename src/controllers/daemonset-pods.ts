import type { OwnerReference } from '../api/types.ts';
import type { DaemonSet, Node, Pod, PodSpec, Toleration } from '../client/index.ts';
import { matchesNodeSelectorAndAffinity } from '../scheduler/plugins/node-affinity.ts';
import { tolerates } from '../scheduler/plugins/taint-toleration.ts';
import { taintKeys } from './node-lifecycle-taints.ts';
import { isPodAvailable, isPodReady } from './pod-status.ts';

/** Labels every daemon pod carries (upstream's DefaultDaemonSetUniqueLabelKey and template generation). */
export const revisionHashLabel = 'controller-revision-hash';
export const templateGenerationLabel = 'pod-template-generation';

/**
 * The tolerations upstream adds to every daemon pod
 * (AddOrUpdateDaemonPodTolerations): daemons keep running on nodes that are
 * not ready, unreachable, under pressure or cordoned.
 */
export function daemonTolerations(spec: PodSpec): Toleration[] {
  const out: Toleration[] = [
    { key: taintKeys.notReady, operator: 'Exists', effect: 'NoExecute' },
    { key: taintKeys.unreachable, operator: 'Exists', effect: 'NoExecute' },
    { key: taintKeys.diskPressure, operator: 'Exists', effect: 'NoSchedule' },
    { key: taintKeys.memoryPressure, operator: 'Exists', effect: 'NoSchedule' },
    { key: taintKeys.pidPressure, operator: 'Exists', effect: 'NoSchedule' },
    { key: taintKeys.unschedulable, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork)
    out.push({ key: taintKeys.networkUnavailable, operator: 'Exists', effect: 'NoSchedule' });
  const have = spec.tolerations ?? [];
  const same = (a: Toleration, b: Toleration) =>
    a.key === b.key && a.effect === b.effect && (a.operator ?? 'Equal') === (b.operator ?? 'Equal');
  return [...have.filter((t) => !out.some((o) => same(o, t))), ...out];
}

/**
 * The pod `ds` runs on `nodeName`: the template with the daemon tolerations,
 * the revision labels, and a required node affinity on `metadata.name` that
 * pins it there while letting the scheduler bind it (upstream's
 * ReplaceDaemonSetPodNodeNameNodeAffinity).
 */
export function newDaemonPod(ds: DaemonSet, nodeName: string, hash: string, ref?: OwnerReference): Pod {
  const tmpl = ds.spec?.template ?? {};
  const spec = structuredClone(tmpl.spec ?? { containers: [] }) as PodSpec;
  spec.tolerations = daemonTolerations(spec);
  const affinity = (spec.affinity ?? {}) as Record<string, Record<string, unknown>>;
  affinity.nodeAffinity = {
    ...affinity.nodeAffinity,
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    },
  };
  spec.affinity = affinity;
  const meta = tmpl.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name ?? ''}-`,
      namespace: ds.metadata.namespace,
      labels: {
        ...meta.labels,
        [templateGenerationLabel]: String(ds.metadata.generation ?? 1),
        [revisionHashLabel]: hash,
      },
      ...(ref ? { ownerReferences: [ref] } : {}),
    },
    spec,
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  return pod;
}

/** The node a daemon pod is for: spec.nodeName, else the node its matchFields affinity pins. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const aff = pod.spec?.affinity as
    | {
        nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown[] } };
      }
    | undefined;
  for (const term of aff?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ??
    []) {
    const fields = (term as { matchFields?: { key: string; operator: string; values?: string[] }[] })
      .matchFields;
    const f = fields?.find((x) => x.key === 'metadata.name' && x.operator === 'In' && x.values?.length === 1);
    if (f?.values?.[0]) return f.values[0];
  }
  return undefined;
}

export interface Eligibility {
  /** A pod should be created here if none runs. */
  shouldRun: boolean;
  /** A pod already here may stay (false: an untolerated NoExecute taint or a selector mismatch). */
  shouldContinueRunning: boolean;
}

/** Upstream's NodeShouldRunDaemonPod: nodeName, nodeSelector and node affinity, then taints. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): Eligibility {
  const no = { shouldRun: false, shouldContinueRunning: false };
  const pod = newDaemonPod(ds, node.metadata.name ?? '', '');
  const tmplNode = ds.spec?.template?.spec?.nodeName;
  if (tmplNode && tmplNode !== node.metadata.name) return no;
  // The affinity the controller adds pins to this node; check the template's own terms.
  const own: Pod = { metadata: {}, spec: { ...(ds.spec?.template?.spec ?? { containers: [] }) } };
  if (!matchesNodeSelectorAndAffinity(own, node)) return no;
  const tolerations = pod.spec?.tolerations ?? [];
  let noSchedule = false;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (tolerations.some((t) => tolerates(t, taint))) continue;
    if (taint.effect === 'NoExecute') return no;
    noSchedule = true;
  }
  return noSchedule
    ? { shouldRun: false, shouldContinueRunning: true }
    : { shouldRun: true, shouldContinueRunning: true };
}

const createdAt = (p: Pod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;

/** Oldest first (scheduled before unscheduled), upstream's podByCreationTimestampAndPhase. */
export function byAge(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  return createdAt(a) - createdAt(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export interface NodeActions {
  /** Nodes that need a daemon pod. */
  create: string[];
  /** Pods to delete (failed, surplus, or on nodes that must not run one). */
  remove: Pod[];
  /** Failed pods found (for the FailedDaemonPod event). */
  failed: Pod[];
}

/**
 * Upstream's podsShouldBeOnNode for one node: create a pod where one should
 * run and none exists; delete failed pods; keep only the oldest pod (with
 * surge: the oldest updated pod, and the oldest old one until the updated one
 * is available); delete every pod where none may continue to run.
 */
export function podsShouldBeOnNode(
  o: {
    node: string;
    eligibility: Eligibility;
    pods: Pod[];
    hash: string;
    surge: boolean;
    minReady: number;
    now: number;
  },
  out: NodeActions,
): void {
  const { eligibility: e, pods } = o;
  if (e.shouldRun && pods.length === 0) {
    out.create.push(o.node);
    return;
  }
  if (!e.shouldContinueRunning) {
    out.remove.push(...pods.filter((p) => !p.metadata.deletionTimestamp));
    return;
  }
  const running: Pod[] = [];
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (p.status?.phase === 'Failed') {
      out.remove.push(p);
      out.failed.push(p);
      continue;
    }
    running.push(p);
  }
  if (running.length <= 1) return;
  running.sort(byAge);
  if (!o.surge) {
    out.remove.push(...running.slice(1));
    return;
  }
  let oldestNew: Pod | undefined;
  let oldestOld: Pod | undefined;
  for (const p of running) {
    if (p.metadata.labels?.[revisionHashLabel] === o.hash) {
      if (!oldestNew) {
        oldestNew = p;
        continue;
      }
    } else if (!oldestOld) {
      oldestOld = p;
      continue;
    }
    out.remove.push(p);
  }
  if (oldestNew && oldestOld) {
    if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, o.minReady, o.now)) out.remove.push(oldestOld);
  }
}
