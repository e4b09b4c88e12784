import type { Pod } from '../../client/index.ts';
import type { NodeInfo } from '../node-info.ts';
import { type CycleState, type Plugin, type Status, specOf, unresolvable } from '../types.ts';
import { tolerates } from './taint-toleration.ts';

export const reason = 'node(s) were unschedulable';
const taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' as const };

/** Filter: cordoned nodes (spec.unschedulable) take only pods tolerating the unschedulable taint. */
export const nodeUnschedulable: Plugin = {
  name: 'NodeUnschedulable',
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    if (!node.node?.spec?.unschedulable) return undefined;
    if ((specOf(pod).tolerations ?? []).some((t) => tolerates(t, taint))) return undefined;
    return unresolvable(reason);
  },
};
