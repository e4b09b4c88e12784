import type { Client } from '../../client/index.ts';
import type { Plugin } from '../types.ts';
import { imageLocality } from './image-locality.ts';
import { interPodAffinity } from './inter-pod-affinity.ts';
import { nodeAffinity } from './node-affinity.ts';
import { nodeName } from './node-name.ts';
import { nodePorts } from './node-ports.ts';
import { nodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';
import { nodeResourcesLeastAllocated } from './node-resources-least-allocated.ts';
import { nodeUnschedulable } from './node-unschedulable.ts';
import { podTopologySpread } from './pod-topology-spread.ts';
import { taintToleration } from './taint-toleration.ts';
import { type VolumeListers, volumeBinding } from './volume-binding.ts';

/**
 * The default plugin set, in upstream's filter order (cheap, decisive checks
 * first; a node is rejected by the first plugin that says no). PrioritySort is
 * the queue's order, not in this list.
 */
export function defaultPlugins(deps: { volumes: VolumeListers; client?: Client }): Plugin[] {
  return [
    nodeUnschedulable,
    nodeName,
    taintToleration,
    nodeAffinity,
    nodePorts,
    nodeResourcesFit,
    volumeBinding(deps.volumes, deps.client),
    podTopologySpread,
    interPodAffinity,
    nodeResourcesLeastAllocated,
    nodeResourcesBalancedAllocation,
    imageLocality,
  ];
}
