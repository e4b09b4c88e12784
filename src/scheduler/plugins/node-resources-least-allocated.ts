import type { Pod } from '../../client/index.ts';
import type { NodeInfo } from '../node-info.ts';
import { nonZeroRequests } from '../resources.ts';
import type { CycleState, Plugin } from '../types.ts';
import { maxNodeScore } from '../types.ts';

const key = 'NodeResourcesLeastAllocated';

/** (allocatable - requested) / allocatable scaled to 0..100; 0 when over-committed. */
export function leastAllocated(requested: number, allocatable: number): number {
  if (allocatable <= 0 || requested > allocatable) return 0;
  return ((allocatable - requested) * maxNodeScore) / allocatable;
}

/** Score: prefer the node with the most CPU and memory left after placing the pod (equal weights). */
export const nodeResourcesLeastAllocated: Plugin = {
  name: 'NodeResourcesLeastAllocated',
  preScore(state: CycleState, pod: Pod): boolean {
    state.set(key, nonZeroRequests(pod));
    return true;
  },
  score(state: CycleState, pod: Pod, node: NodeInfo): number {
    const req = (state.get(key) as ReturnType<typeof nonZeroRequests> | undefined) ?? nonZeroRequests(pod);
    const cpu = leastAllocated(node.nonZeroRequested.milliCPU + req.milliCPU, node.allocatable.milliCPU);
    const mem = leastAllocated(node.nonZeroRequested.memory + req.memory, node.allocatable.memory);
    return Math.floor((cpu + mem) / 2);
  },
};
