import type { KubeObject, ObjectMeta } from './types.ts';

/**
 * Minimal typed shapes for the objects the scheduler, controllers and agent
 * read most. Only the fields they touch are named; everything else stays
 * reachable through the open index signatures (the API is a JSON tree, see
 * api/types.ts). Extend a shape here when a component needs another field.
 */
type Open = { [key: string]: unknown };

export interface Container extends Open {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  ports?: { containerPort: number; hostPort?: number; protocol?: string; name?: string }[];
}

export interface Toleration extends Open {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface PodSpec extends Open {
  nodeName?: string;
  schedulerName?: string;
  nodeSelector?: Record<string, string>;
  containers: Container[];
  initContainers?: Container[];
  tolerations?: Toleration[];
  priority?: number;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  hostNetwork?: boolean;
}

export interface Condition extends Open {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface PodStatus extends Open {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: Condition[];
  podIP?: string;
  hostIP?: string;
  startTime?: string;
}

export interface Pod extends KubeObject {
  spec?: PodSpec;
  status?: PodStatus;
}

export interface Taint extends Open {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface Node extends KubeObject {
  spec?: Open & { unschedulable?: boolean; taints?: Taint[]; podCIDR?: string };
  status?: Open & {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: Condition[];
    addresses?: { type: string; address: string }[];
  };
}

export interface LeaseSpec extends Open {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** pods/binding: assigns a pod to a node (the scheduler's only write to pods). */
export interface Binding extends KubeObject {
  target: { apiVersion?: string; kind: 'Node'; name: string };
}

/** pods/eviction (policy/v1): a deletion that honours PodDisruptionBudgets. */
export interface Eviction extends KubeObject {
  deleteOptions?: Open;
}

/** autoscaling/v1 Scale, the body of `.../scale`. */
export interface Scale extends KubeObject {
  spec?: Open & { replicas?: number };
  status?: Open & { replicas: number; selector?: string };
}

export interface Event extends KubeObject {
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string };
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
}

/** Workloads with a label selector and a pod template. */
export interface Workload extends KubeObject {
  spec?: Open & {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: Open[] };
    template?: { metadata?: ObjectMeta; spec?: PodSpec };
  };
  status?: Open & { replicas?: number; readyReplicas?: number; observedGeneration?: number };
}

export type Deployment = Workload;
export type ReplicaSet = Workload;
export type StatefulSet = Workload;
export type DaemonSet = Workload;
export type Job = Workload;
