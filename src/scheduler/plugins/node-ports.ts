import type { Pod } from '../../client/index.ts';
import { type HostPort, type NodeInfo, podInfoOf } from '../node-info.ts';
import { type CycleState, type Plugin, type Status, unschedulable } from '../types.ts';

export const reason = "node(s) didn't have free ports for the requested pod ports";
const key = 'NodePorts';

function conflicts(a: HostPort, b: HostPort): boolean {
  return (
    a.port === b.port && a.proto === b.proto && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0')
  );
}

/** Filter: the pod's host ports must be free on the node (same protocol, overlapping address). */
export const nodePorts: Plugin = {
  name: 'NodePorts',
  events: ['NodeAdd', 'PodDelete'],
  preFilter(state: CycleState, pod: Pod): Status | undefined {
    state.set(key, podInfoOf(pod).ports);
    return undefined;
  },
  filter(state: CycleState, _pod: Pod, node: NodeInfo): Status | undefined {
    const want = (state.get(key) as HostPort[] | undefined) ?? [];
    if (!want.length || !node.usedPorts.length) return undefined;
    for (const p of want) for (const u of node.usedPorts) if (conflicts(p, u)) return unschedulable(reason);
    return undefined;
  },
};
