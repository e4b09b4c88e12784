import { matchesLabels, type Requirement, selectorRequirements } from '../api/label-selector.ts';
import type { Pod } from '../client/index.ts';
import type { LabelSelector, PodAffinityTerm } from './types.ts';

/** A compiled LabelSelector; `undefined` (a nil selector) matches nothing, `{}` everything. */
export type CompiledSelector = Requirement[] | undefined;

export function compile(sel: LabelSelector | undefined): CompiledSelector {
  return sel ? selectorRequirements(sel) : undefined;
}

export function matches(sel: CompiledSelector, labels: Record<string, string> | undefined): boolean {
  return sel !== undefined && matchesLabels(sel, labels);
}

/** A pod affinity term with its selector compiled and namespaces resolved against its owner pod. */
export interface CompiledTerm {
  selector: CompiledSelector;
  /** undefined: every namespace. */
  namespaces: Set<string> | undefined;
  topologyKey: string;
  weight: number;
}

export function compileTerm(term: PodAffinityTerm, owner: Pod, weight = 1): CompiledTerm {
  const nsSel = term.namespaceSelector;
  const all = nsSel !== undefined && !nsSel.matchLabels && !nsSel.matchExpressions?.length;
  const namespaces = all
    ? undefined
    : new Set(term.namespaces?.length ? term.namespaces : [owner.metadata.namespace ?? 'default']);
  return { selector: compile(term.labelSelector), namespaces, topologyKey: term.topologyKey, weight };
}

/** Whether `pod` is one of the pods `term` talks about. */
export function termMatches(term: CompiledTerm, pod: Pod): boolean {
  if (term.namespaces && !term.namespaces.has(pod.metadata.namespace ?? 'default')) return false;
  return matches(term.selector, pod.metadata.labels);
}
