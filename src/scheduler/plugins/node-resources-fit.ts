import type { Pod } from '../../client/index.ts';
import type { NodeInfo } from '../node-info.ts';
import { podRequests, type Resources } from '../resources.ts';
import { type CycleState, type Plugin, type Status, unschedulable } from '../types.ts';

export const tooManyPods = 'Too many pods';
export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

const key = 'NodeResourcesFit';

interface Prepared {
  req: Resources;
  scalar: [string, number][];
}

/**
 * Filter: the pod's requests (the larger of its containers' sum and its
 * largest init container, plus overhead) must fit in what the node has left
 * of its allocatable, and the node must have room for one more pod. Every
 * shortfall is reported ("Insufficient cpu", "Insufficient memory", ...).
 */
export const nodeResourcesFit: Plugin = {
  name: 'NodeResourcesFit',
  events: ['NodeAdd', 'NodeUpdate', 'PodDelete'],
  preFilter(state: CycleState, pod: Pod): Status | undefined {
    const req = podRequests(pod);
    state.set(key, { req, scalar: Object.entries(req.scalar) } satisfies Prepared);
    return undefined;
  },
  filter(state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    const prep = state.get(key) as Prepared | undefined;
    const req = prep?.req ?? podRequests(pod);
    const reasons: string[] = [];
    if (node.pods.size + 1 > node.allowedPods) reasons.push(tooManyPods);
    const a = node.allocatable;
    const u = node.requested;
    if (req.milliCPU && req.milliCPU > a.milliCPU - u.milliCPU) reasons.push(insufficient('cpu'));
    if (req.memory && req.memory > a.memory - u.memory) reasons.push(insufficient('memory'));
    if (req.ephemeralStorage && req.ephemeralStorage > a.ephemeralStorage - u.ephemeralStorage)
      reasons.push(insufficient('ephemeral-storage'));
    for (const [name, v] of prep?.scalar ?? Object.entries(req.scalar)) {
      if (v && v > (a.scalar[name] ?? 0) - (u.scalar[name] ?? 0)) reasons.push(insufficient(name));
    }
    return reasons.length ? unschedulable(...reasons) : undefined;
  },
};
