import type { Node, Pod } from '../../client/index.ts';
import { normalize } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import {
  type CycleState,
  type NodeSelectorRequirement,
  type NodeSelectorTerm,
  type Plugin,
  type Status,
  specOf,
  unresolvable,
} from '../types.ts';

export const reason = "node(s) didn't match Pod's node affinity/selector";

function matchesRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const v = Number.parseInt(value ?? '', 10);
      const bound = Number.parseInt(values[0] ?? '', 10);
      if (!has || Number.isNaN(v) || Number.isNaN(bound)) return false;
      return r.operator === 'Gt' ? v > bound : v < bound;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; an empty term matches nothing. */
export function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata.labels ?? {};
  for (const e of exprs) if (!matchesRequirement(e, labels[e.key])) return false;
  for (const f of fields) {
    const v = f.key === 'metadata.name' ? node.metadata.name : undefined;
    if (!matchesRequirement(f, v)) return false;
  }
  return true;
}

/** nodeSelector and required node affinity (terms ORed), as upstream's RequiredNodeAffinity. */
export function matchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const spec = specOf(pod);
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms || terms.some((t) => matchesTerm(t, node));
}

/** Filter: nodeSelector and required terms. Score: the summed weights of matching preferred terms. */
export const nodeAffinity: Plugin = {
  name: 'NodeAffinity',
  weight: 2,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    if (!node.node) return unresolvable(reason);
    return matchesNodeSelectorAndAffinity(pod, node.node) ? undefined : unresolvable(reason);
  },
  preScore(_state: CycleState, pod: Pod): boolean {
    return !!specOf(pod).affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length;
  },
  score(_state: CycleState, pod: Pod, node: NodeInfo): number {
    const prefs = specOf(pod).affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    if (!prefs?.length || !node.node) return 0;
    let sum = 0;
    for (const p of prefs) if (p.weight && matchesTerm(p.preference, node.node)) sum += p.weight;
    return sum;
  },
  normalizeScore(_state: CycleState, _pod: Pod, scores: number[]): void {
    normalize(scores);
  },
};
