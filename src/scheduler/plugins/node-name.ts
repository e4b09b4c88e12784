import type { Pod } from '../../client/index.ts';
import type { NodeInfo } from '../node-info.ts';
import { type CycleState, type Plugin, type Status, unresolvable } from '../types.ts';

export const reason = "node(s) didn't match the requested node name";

/** Filter: a pod that names its node (spec.nodeName) fits only there. */
export const nodeName: Plugin = {
  name: 'NodeName',
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    const want = pod.spec?.nodeName;
    return want && want !== node.name ? unresolvable(reason) : undefined;
  },
};
