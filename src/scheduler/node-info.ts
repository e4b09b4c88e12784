import type { Node, Pod } from '../client/index.ts';
import { keyOf } from '../client/index.ts';
import {
  addResources,
  emptyResources,
  nonZeroRequests,
  podRequests,
  type Resources,
  resourcesOf,
} from './resources.ts';
import { specOf } from './types.ts';

/** A host port a pod uses: `proto/port` on `ip` (0.0.0.0 for all addresses). */
export interface HostPort {
  ip: string;
  proto: string;
  port: number;
}

/** A pod with what the scheduler derives from it, computed once per pod version. */
export interface PodInfo {
  pod: Pod;
  key: string;
  requests: Resources;
  nonZero: { milliCPU: number; memory: number };
  ports: HostPort[];
  hasRequiredAntiAffinity: boolean;
  /** Any pod affinity or anti-affinity term (scoring is symmetric over these). */
  hasAffinity: boolean;
  /** uid of the controller ownerReference, '' when none. */
  owner: string;
}

export function podInfoOf(pod: Pod): PodInfo {
  const spec = specOf(pod);
  const ports: HostPort[] = [];
  for (const c of spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort)
        ports.push({
          ip: (p as { hostIP?: string }).hostIP || '0.0.0.0',
          proto: p.protocol ?? 'TCP',
          port: p.hostPort,
        });
    }
  }
  const anti = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return {
    pod,
    key: keyOf(pod),
    requests: podRequests(pod),
    nonZero: nonZeroRequests(pod),
    ports,
    hasRequiredAntiAffinity: !!anti?.length,
    hasAffinity: !!(spec.affinity?.podAffinity || spec.affinity?.podAntiAffinity),
    owner: pod.metadata.ownerReferences?.find((o) => o.controller)?.uid ?? '',
  };
}

/**
 * One node and the pods on it (bound or assumed), with running totals the
 * plugins read: requested resources, used host ports, images present.
 * Owned by the Cache; plugins must not modify it.
 */
export class NodeInfo {
  readonly name: string;
  node: Node | undefined;
  allocatable: Resources = emptyResources();
  allowedPods = 110;
  labels: Record<string, string> = {};
  /** Image name (every tag and digest the node reports) → size in bytes. */
  images = new Map<string, number>();
  readonly requested: Resources = emptyResources();
  readonly nonZeroRequested = { milliCPU: 0, memory: 0 };
  readonly pods = new Map<string, PodInfo>();
  readonly usedPorts: HostPort[] = [];
  podsWithRequiredAntiAffinity = 0;
  podsWithAffinity = 0;

  constructor(name: string) {
    this.name = name;
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
    this.allocatable = resourcesOf(alloc);
    this.allowedPods = alloc.pods !== undefined ? Number(alloc.pods) : 110;
    this.images.clear();
    const images = (node.status as { images?: { names?: string[]; sizeBytes?: number }[] } | undefined)
      ?.images;
    for (const img of images ?? []) for (const n of img.names ?? []) this.images.set(n, img.sizeBytes ?? 0);
  }

  /** A copy for what-if checks (preemption, nominated pods): without `removed`, plus `extra`. */
  clone(removed?: ReadonlySet<string>, extra: readonly PodInfo[] = []): NodeInfo {
    const copy = new NodeInfo(this.name);
    if (this.node) copy.setNode(this.node);
    for (const pi of this.pods.values()) if (!removed?.has(pi.key)) copy.addPod(pi);
    for (const pi of extra) copy.addPod(pi);
    return copy;
  }

  addPod(pi: PodInfo): void {
    this.#account(pi, 1);
    this.pods.set(pi.key, pi);
  }

  removePod(key: string): PodInfo | undefined {
    const pi = this.pods.get(key);
    if (!pi) return undefined;
    this.pods.delete(key);
    this.#account(pi, -1);
    return pi;
  }

  #account(pi: PodInfo, sign: 1 | -1): void {
    addResources(this.requested, pi.requests, sign);
    this.nonZeroRequested.milliCPU += sign * pi.nonZero.milliCPU;
    this.nonZeroRequested.memory += sign * pi.nonZero.memory;
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity += sign;
    if (pi.hasAffinity) this.podsWithAffinity += sign;
    for (const p of pi.ports) {
      if (sign > 0) this.usedPorts.push(p);
      else {
        const i = this.usedPorts.indexOf(p);
        if (i >= 0) this.usedPorts.splice(i, 1);
      }
    }
  }
}
