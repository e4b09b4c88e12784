import type { Pod, Taint, Toleration } from '../../client/index.ts';
import { normalize } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import { type CycleState, type Plugin, type Status, specOf, unresolvable } from '../types.ts';

/** Upstream's reason: "node(s) had untolerated taint {key: value}". */
export function reason(t: Taint): string {
  return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
}

/** Whether one toleration tolerates one taint (upstream's ToleratesTaint). */
export function tolerates(tol: Toleration, taint: { key: string; value?: string; effect: string }): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  if (tol.operator === 'Exists') return true;
  // An empty key with Equal is invalid at the API; treat it as matching nothing.
  if (!tol.key) return false;
  return (tol.value ?? '') === (taint.value ?? '');
}

/**
 * Filter: a node's NoSchedule and NoExecute taints must each be tolerated.
 * Score: fewer untolerated PreferNoSchedule taints is better.
 */
export const taintToleration: Plugin = {
  name: 'TaintToleration',
  weight: 3,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    const taints = node.node?.spec?.taints;
    if (!taints?.length) return undefined;
    const tols = specOf(pod).tolerations ?? [];
    for (const t of taints) {
      if (t.effect === 'PreferNoSchedule') continue;
      if (!tols.some((tol) => tolerates(tol, t))) return unresolvable(reason(t));
    }
    return undefined;
  },
  score(_state: CycleState, pod: Pod, node: NodeInfo): number {
    const taints = node.node?.spec?.taints;
    if (!taints?.length) return 0;
    const tols = (specOf(pod).tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const t of taints)
      if (t.effect === 'PreferNoSchedule' && !tols.some((tol) => tolerates(tol, t))) n++;
    return n;
  },
  normalizeScore(_state: CycleState, _pod: Pod, scores: number[]): void {
    normalize(scores, true);
  },
};
