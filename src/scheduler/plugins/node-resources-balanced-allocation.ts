import type { Pod } from '../../client/index.ts';
import type { NodeInfo } from '../node-info.ts';
import { nonZeroRequests } from '../resources.ts';
import type { CycleState, Plugin } from '../types.ts';
import { maxNodeScore } from '../types.ts';

const key = 'NodeResourcesBalancedAllocation';

/** (1 - standard deviation of the CPU and memory fractions) × 100, upstream's formula for two resources. */
export function balanced(cpuFraction: number, memFraction: number): number {
  const c = Math.min(cpuFraction, 1);
  const m = Math.min(memFraction, 1);
  return Math.floor((1 - Math.abs(c - m) / 2) * maxNodeScore);
}

/** Score: prefer nodes whose CPU and memory would be equally used after placing the pod. */
export const nodeResourcesBalancedAllocation: Plugin = {
  name: 'NodeResourcesBalancedAllocation',
  preScore(state: CycleState, pod: Pod): boolean {
    state.set(key, nonZeroRequests(pod));
    return true;
  },
  score(state: CycleState, pod: Pod, node: NodeInfo): number {
    const req = (state.get(key) as ReturnType<typeof nonZeroRequests> | undefined) ?? nonZeroRequests(pod);
    const a = node.allocatable;
    if (!a.milliCPU || !a.memory) return 0;
    return balanced(
      (node.nonZeroRequested.milliCPU + req.milliCPU) / a.milliCPU,
      (node.nonZeroRequested.memory + req.memory) / a.memory,
    );
  },
};
