import type { Container, Pod, PodSpec, Toleration } from '../client/index.ts';
import type { NodeInfo, PodInfo } from './node-info.ts';

/** A LabelSelector object (matchLabels + matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  topologyKey: string;
}

export interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTerm[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
  };
  podAffinity?: PodAffinity;
  podAntiAffinity?: PodAffinity;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: LabelSelector;
  minDomains?: number;
}

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [k: string]: unknown;
}

/** The pod spec fields the scheduler reads beyond client/objects.ts's PodSpec. */
export interface SchedulingSpec extends PodSpec {
  affinity?: Affinity;
  topologySpreadConstraints?: TopologySpreadConstraint[];
  overhead?: Record<string, string>;
  priorityClassName?: string;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
  volumes?: Volume[];
  containers: Container[];
  tolerations?: Toleration[];
}

export function specOf(pod: Pod): SchedulingSpec {
  return (pod.spec ?? { containers: [] }) as SchedulingSpec;
}

/**
 * What a plugin answers. `undefined` means success; a Status means the node
 * does not fit (or, with code Error, that something went wrong). "Doesn't fit"
 * is an answer, not an exception.
 */
export interface Status {
  code: 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';
  /** Upstream's reason strings, e.g. "Insufficient cpu"; counted in FailedScheduling messages. */
  reasons: string[];
  plugin?: string;
}

export function unschedulable(...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons };
}

/** Does not fit and preempting pods on the node would not help either. */
export function unresolvable(...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons };
}

/** Per-cycle scratch space where PreFilter/PreScore leave data for Filter/Score. */
export type CycleState = Map<string, unknown>;

/** The nodes (and through them, the pods) as one scheduling cycle sees them. */
export interface Snapshot {
  nodes: readonly NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Pods whose controller ownerReference has this uid, counted per node name. */
  ownerCounts(uid: string): ReadonlyMap<string, number> | undefined;
  /** Nodes holding at least one pod with required pod anti-affinity. */
  nodesWithRequiredAntiAffinity(): readonly NodeInfo[];
  /** Nodes holding at least one pod with any pod affinity or anti-affinity term. */
  nodesWithAffinity(): readonly NodeInfo[];
  /** How many nodes report having `image` (normalised name). */
  imageNodes(image: string): number;
  /** Pods nominated to this node by preemption and not yet bound there. */
  nominatedOn(nodeName: string): readonly PodInfo[];
}

/** The kinds of cluster change that can make an unschedulable pod schedulable. */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'PodDelete' | 'PodUpdate' | 'VolumeChange';

/** Highest score a plugin gives after normalisation (upstream's MaxNodeScore). */
export const maxNodeScore = 100;

/**
 * One plugin: a name and the extension points it implements. All synchronous:
 * a scheduling cycle reads the snapshot without awaiting, so the snapshot
 * cannot change under it. Only PreBind and the binder are asynchronous.
 */
export interface Plugin {
  readonly name: string;
  /** Weight of this plugin's normalised score (default 1). */
  readonly weight?: number;
  /** Runs once per pod; a Status rejects the pod on every node. */
  preFilter?(state: CycleState, pod: Pod, snap: Snapshot): Status | undefined;
  filter?(state: CycleState, pod: Pod, node: NodeInfo): Status | undefined;
  /**
   * Runs once per pod before scoring, with the feasible nodes. Returning false
   * means the plugin has no opinion on this pod: Score and NormalizeScore are skipped.
   */
  preScore?(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], snap: Snapshot): boolean;
  score?(state: CycleState, pod: Pod, node: NodeInfo): number;
  /** Rescales this plugin's raw scores (parallel to PreScore's nodes) into 0..maxNodeScore in place. */
  normalizeScore?(state: CycleState, pod: Pod, scores: number[]): void;
  /**
   * Right after the pod is assumed on the node, still inside the cycle: claim
   * plugin-side resources. A Status undoes the placement (Unreserve runs for all).
   */
  reserve?(state: CycleState, pod: Pod, nodeName: string): Status | undefined;
  /** Undoes Reserve when the reservation, PreBind or binding fails. Must be idempotent. */
  unreserve?(state: CycleState, pod: Pod, nodeName: string): void;
  /** Before binding, once the pod is assumed on `node` (e.g. pick volumes). Throws to fail the binding. */
  preBind?(state: CycleState, pod: Pod, nodeName: string): Promise<void>;
  /**
   * Binds the pod itself and resolves true, or resolves false to leave it to the
   * next binder; the default binder (POST pods/binding) comes last.
   */
  bind?(state: CycleState, pod: Pod, nodeName: string): Promise<boolean>;
  /** Cluster events after which a pod this plugin rejected may fit. */
  readonly events?: readonly ClusterEvent[];
}
