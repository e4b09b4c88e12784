import type { Pod } from '../../client/index.ts';
import { normalizeMinMax } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import { type CompiledSelector, compile, matches } from '../selector.ts';
import {
  type CycleState,
  maxNodeScore,
  type Plugin,
  type Snapshot,
  type Status,
  specOf,
  unresolvable,
  unschedulable,
} from '../types.ts';
import { matchesNodeSelectorAndAffinity } from './node-affinity.ts';

export const reason = "node(s) didn't match pod topology spread constraints";
export const missingLabelReason = `${reason} (missing required label)`;
export const hostnameKey = 'kubernetes.io/hostname';
export const zoneKey = 'topology.kubernetes.io/zone';

interface Constraint {
  maxSkew: number;
  key: string;
  selector: CompiledSelector;
  selfMatch: number;
  /** matching pods per topology value */
  counts: Map<string, number>;
  min: number;
}

const filterKey = 'PodTopologySpread/filter';
const scoreKey = 'PodTopologySpread/score';

function domainOf(node: NodeInfo, key: string): string | undefined {
  // Nodes without a hostname label still have a name; treat it as the hostname.
  return node.labels[key] ?? (key === hostnameKey ? node.name : undefined);
}

function countOn(node: NodeInfo, ns: string, sel: CompiledSelector): number {
  let n = 0;
  for (const pi of node.pods.values()) {
    const p = pi.pod;
    if (p.metadata.namespace === ns && !p.metadata.deletionTimestamp && matches(sel, p.metadata.labels)) n++;
  }
  return n;
}

function build(pod: Pod, snap: Snapshot, hard: boolean): Constraint[] {
  const ns = pod.metadata.namespace ?? 'default';
  const want = hard ? 'DoNotSchedule' : 'ScheduleAnyway';
  const cs: Constraint[] = (specOf(pod).topologySpreadConstraints ?? [])
    .filter((c) => c.whenUnsatisfiable === want)
    .map((c) => {
      const selector = compile(c.labelSelector);
      const selfMatch = matches(selector, pod.metadata.labels) ? 1 : 0;
      return { maxSkew: c.maxSkew, key: c.topologyKey, selector, selfMatch, counts: new Map(), min: 0 };
    });
  if (!cs.length) return cs;
  for (const ni of snap.nodes) {
    if (!ni.node || !matchesNodeSelectorAndAffinity(pod, ni.node)) continue;
    if (cs.some((c) => domainOf(ni, c.key) === undefined)) continue;
    for (const c of cs) {
      const v = domainOf(ni, c.key)!;
      c.counts.set(v, (c.counts.get(v) ?? 0) + countOn(ni, ns, c.selector));
    }
  }
  for (const c of cs) c.min = c.counts.size ? Math.min(...c.counts.values()) : 0;
  return cs;
}

/** Per-node raw spread score: how many matching pods already share the node's domains. */
type Scorer = (node: NodeInfo) => number;

function defaultScorer(pod: Pod, snap: Snapshot): Scorer | undefined {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
  const counts = owner ? snap.ownerCounts(owner) : undefined;
  if (!counts?.size) return undefined;
  // Upstream's system defaults: hostname (maxSkew 3) and zone (maxSkew 5), both ScheduleAnyway.
  const zones = new Map<string, number>();
  for (const [nodeName, n] of counts) {
    const z = snap.get(nodeName)?.labels[zoneKey];
    if (z !== undefined) zones.set(z, (zones.get(z) ?? 0) + n);
  }
  return (node) => {
    const z = node.labels[zoneKey];
    return (counts.get(node.name) ?? 0) + (z !== undefined ? (zones.get(z) ?? 0) : 0);
  };
}

/**
 * Filter: DoNotSchedule constraints, skew = matching pods in the node's domain
 * (+1 if the pod matches itself) minus the smallest domain's count must not
 * exceed maxSkew. Score: ScheduleAnyway constraints, or, for a pod with no
 * constraints, the default spreading of a controller's replicas across nodes
 * and zones: fewer siblings in the node's domains scores higher.
 */
export const podTopologySpread: Plugin = {
  name: 'PodTopologySpread',
  weight: 2,
  events: ['NodeAdd', 'NodeUpdate', 'PodDelete'],
  preFilter(state: CycleState, pod: Pod, snap: Snapshot): Status | undefined {
    if (specOf(pod).topologySpreadConstraints?.length) state.set(filterKey, build(pod, snap, true));
    return undefined;
  },
  filter(state: CycleState, _pod: Pod, node: NodeInfo): Status | undefined {
    const cs = state.get(filterKey) as Constraint[] | undefined;
    if (!cs?.length) return undefined;
    for (const c of cs) {
      const v = domainOf(node, c.key);
      if (v === undefined) return unresolvable(missingLabelReason);
      if ((c.counts.get(v) ?? 0) + c.selfMatch - c.min > c.maxSkew) return unschedulable(reason);
    }
    return undefined;
  },
  preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[], snap: Snapshot): boolean {
    let scorer: Scorer | undefined;
    if (specOf(pod).topologySpreadConstraints?.length) {
      const cs = build(pod, snap, false);
      if (cs.length)
        scorer = (node) => cs.reduce((sum, c) => sum + (c.counts.get(domainOf(node, c.key) ?? '') ?? 0), 0);
    } else scorer = defaultScorer(pod, snap);
    state.set(scoreKey, scorer);
    return scorer !== undefined;
  },
  score(state: CycleState, _pod: Pod, node: NodeInfo): number {
    const scorer = state.get(scoreKey) as Scorer | undefined;
    return scorer ? scorer(node) : 0;
  },
  normalizeScore(_state: CycleState, _pod: Pod, scores: number[]): void {
    normalizeMinMax(scores, true, maxNodeScore);
  },
};
