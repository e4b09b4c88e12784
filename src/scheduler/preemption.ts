import type { Pod } from '../client/index.ts';
import type { Diagnosis, Framework } from './framework.ts';
import type { PodInfo } from './node-info.ts';
import { priorityOf } from './plugins/priority-sort.ts';
import type { CycleState, Snapshot } from './types.ts';
import { specOf } from './types.ts';

export const notHelpful = 'Preemption is not helpful for scheduling';
export const noVictims = 'No preemption victims found for incoming pod';

export interface Preemption {
  node: string;
  victims: Pod[];
}

/** The outcome of PostFilter: a node and victims, or why not (upstream's "preemption: ..." message). */
export type PreemptionResult =
  | { preemption: Preemption; message?: undefined }
  | { preemption?: undefined; message: string };

/**
 * Basic preemption (upstream's DefaultPreemption, without PDBs or
 * cross-node victims): on each node rejected for a reason preemption can
 * fix, remove every lower-priority pod; if the pod then fits, add victims
 * back highest-priority first while it still fits. The node needing the
 * fewest victims (then the lowest highest-victim priority) wins.
 */
export function findPreemption(opts: {
  pod: Pod;
  snap: Snapshot;
  framework: Framework;
  state: CycleState;
  diagnosis: Diagnosis;
}): PreemptionResult {
  const { pod, snap, framework, state, diagnosis: d } = opts;
  if (specOf(pod).preemptionPolicy === 'Never')
    return { message: 'preemption: not eligible due to preemptionPolicy=Never.' };
  const prio = priorityOf(pod);
  const counts = new Map<string, number>();
  const bump = (r: string) => counts.set(r, (counts.get(r) ?? 0) + 1);
  let best: { node: string; victims: PodInfo[]; top: number } | undefined;
  for (const ni of snap.nodes) {
    const st = d.preFilter ?? d.nodes.get(ni.name);
    if (!st || st.code === 'UnschedulableAndUnresolvable' || d.preFilter) {
      bump(notHelpful);
      continue;
    }
    const lower = [...ni.pods.values()].filter((pi) => priorityOf(pi.pod) < prio);
    if (!lower.length || framework.runFilters(state, pod, ni.clone(new Set(lower.map((p) => p.key))))) {
      bump(noVictims);
      continue;
    }
    // Reprieve the most important pods first; whoever cannot be kept is a victim.
    lower.sort((a, b) => priorityOf(b.pod) - priorityOf(a.pod));
    const removed = new Set(lower.map((p) => p.key));
    const victims: PodInfo[] = [];
    for (const pi of lower) {
      removed.delete(pi.key);
      if (framework.runFilters(state, pod, ni.clone(removed))) {
        removed.add(pi.key);
        victims.push(pi);
      }
    }
    const top = Math.max(...victims.map((v) => priorityOf(v.pod)));
    if (
      !best ||
      victims.length < best.victims.length ||
      (victims.length === best.victims.length && top < best.top)
    )
      best = { node: ni.name, victims, top };
  }
  if (best) return { preemption: { node: best.node, victims: best.victims.map((v) => v.pod) } };
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return { message: `preemption: 0/${d.numAllNodes} nodes are available: ${parts.join(', ')}.` };
}
