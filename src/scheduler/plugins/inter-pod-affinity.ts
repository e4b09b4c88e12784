import type { Pod } from '../../client/index.ts';
import { normalizeMinMax } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import { type CompiledTerm, compileTerm, termMatches } from '../selector.ts';
import { type CycleState, type Plugin, type Snapshot, type Status, specOf, unschedulable } from '../types.ts';

export const existingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules";
export const affinityReason = "node(s) didn't match pod affinity rules";
export const antiAffinityReason = "node(s) didn't match pod anti-affinity rules";

const filterKey = 'InterPodAffinity/filter';
const scoreKey = 'InterPodAffinity/score';

interface FilterState {
  /** `key=value` topology pairs where an existing pod's anti-affinity forbids this pod. */
  forbidden: Set<string>;
  affinity: { term: CompiledTerm; values: Set<string> }[];
  /** No pod anywhere matches the affinity terms, but the pod matches them itself: the first of its group. */
  affinitySelfOk: boolean;
  anti: { term: CompiledTerm; values: Set<string> }[];
}

function terms(pod: Pod, kind: 'podAffinity' | 'podAntiAffinity'): CompiledTerm[] {
  const t = specOf(pod).affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  return t.map((x) => compileTerm(x, pod));
}

/** Preferred terms with their weights: affinity positive, anti-affinity negative. */
function preferredTerms(pod: Pod): CompiledTerm[] {
  const a = specOf(pod).affinity;
  return [
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) =>
      compileTerm(w.podAffinityTerm, pod, w.weight),
    ),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) =>
      compileTerm(w.podAffinityTerm, pod, -w.weight),
    ),
  ];
}

/** The topology values (per term) of nodes holding a pod the term matches. */
function valuesWithMatches(
  list: CompiledTerm[],
  snap: Snapshot,
): { term: CompiledTerm; values: Set<string> }[] {
  const out = list.map((term) => ({ term, values: new Set<string>() }));
  if (!out.length) return out;
  for (const ni of snap.nodes) {
    for (const pi of ni.pods.values()) {
      for (const o of out) {
        const v = ni.labels[o.term.topologyKey];
        if (v !== undefined && !o.values.has(v) && termMatches(o.term, pi.pod)) o.values.add(v);
      }
    }
  }
  return out;
}

function forbiddenBy(pod: Pod, snap: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const ni of snap.nodesWithRequiredAntiAffinity()) {
    for (const pi of ni.pods.values()) {
      if (!pi.hasRequiredAntiAffinity) continue;
      for (const t of terms(pi.pod, 'podAntiAffinity')) {
        const v = ni.labels[t.topologyKey];
        if (v !== undefined && termMatches(t, pod)) out.add(`${t.topologyKey}=${v}`);
      }
    }
  }
  return out;
}

/**
 * Filter: existing pods' required anti-affinity must not exclude this pod from
 * the node's domain; this pod's required affinity terms must each find a
 * matching pod in the node's domain (or none exist anywhere and it matches
 * them itself); its anti-affinity terms must find none. Score: preferred
 * affinity adds, preferred anti-affinity subtracts the term's weight for each
 * matching pod in the node's domain, and symmetrically for existing pods whose
 * preferred (or required affinity, weight 1) terms match the incoming pod.
 */
export const interPodAffinity: Plugin = {
  name: 'InterPodAffinity',
  weight: 2,
  events: ['NodeAdd', 'NodeUpdate', 'PodDelete', 'PodUpdate'],
  preFilter(state: CycleState, pod: Pod, snap: Snapshot): Status | undefined {
    const affinity = valuesWithMatches(terms(pod, 'podAffinity'), snap);
    const st: FilterState = {
      forbidden: forbiddenBy(pod, snap),
      affinity,
      affinitySelfOk:
        affinity.length > 0 &&
        affinity.every((a) => a.values.size === 0) &&
        affinity.every((a) => termMatches(a.term, pod)),
      anti: valuesWithMatches(terms(pod, 'podAntiAffinity'), snap),
    };
    state.set(filterKey, st);
    return undefined;
  },
  filter(state: CycleState, _pod: Pod, node: NodeInfo): Status | undefined {
    const st = state.get(filterKey) as FilterState | undefined;
    if (!st) return undefined;
    if (st.forbidden.size) {
      for (const [k, v] of Object.entries(node.labels))
        if (st.forbidden.has(`${k}=${v}`)) return unschedulable(existingAntiAffinityReason);
    }
    if (!st.affinitySelfOk) {
      for (const a of st.affinity) {
        const v = node.labels[a.term.topologyKey];
        if (v === undefined || !a.values.has(v)) return unschedulable(affinityReason);
      }
    }
    for (const a of st.anti) {
      const v = node.labels[a.term.topologyKey];
      if (v !== undefined && a.values.has(v)) return unschedulable(antiAffinityReason);
    }
    return undefined;
  },
  preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[], snap: Snapshot): boolean {
    const weighted = preferredTerms(pod);
    const others = snap.nodesWithAffinity();
    if (!weighted.length && !others.length) return false;
    // topology pair → summed weight; the incoming pod's preferences over existing pods…
    const pairs = new Map<string, number>();
    const add = (key: string, value: string | undefined, w: number) => {
      if (value === undefined) return;
      const k = `${key}=${value}`;
      pairs.set(k, (pairs.get(k) ?? 0) + w);
    };
    if (weighted.length) {
      for (const ni of snap.nodes) {
        for (const pi of ni.pods.values()) {
          for (const t of weighted)
            if (termMatches(t, pi.pod)) add(t.topologyKey, ni.labels[t.topologyKey], t.weight);
        }
      }
    }
    // …and, symmetrically, existing pods' preferences (and required affinity, weight 1) over it.
    for (const ni of others) {
      for (const pi of ni.pods.values()) {
        if (!pi.hasAffinity) continue;
        const theirs = [...preferredTerms(pi.pod), ...terms(pi.pod, 'podAffinity')];
        for (const t of theirs)
          if (termMatches(t, pod)) add(t.topologyKey, ni.labels[t.topologyKey], t.weight);
      }
    }
    if (!pairs.size) return false;
    state.set(scoreKey, pairs);
    return true;
  },
  score(state: CycleState, _pod: Pod, node: NodeInfo): number {
    const pairs = state.get(scoreKey) as Map<string, number> | undefined;
    if (!pairs?.size) return 0;
    let sum = 0;
    for (const [k, v] of Object.entries(node.labels)) sum += pairs.get(`${k}=${v}`) ?? 0;
    return sum;
  },
  normalizeScore(_state: CycleState, _pod: Pod, scores: number[]): void {
    normalizeMinMax(scores, false, 0);
  },
};
