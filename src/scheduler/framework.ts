import type { Pod } from '../client/index.ts';
import type { NodeInfo } from './node-info.ts';
import { priorityOf } from './plugins/priority-sort.ts';
import type { CycleState, Plugin, Snapshot, Status } from './types.ts';
import { maxNodeScore } from './types.ts';

/** Why a pod fits nowhere: each rejected node's status, for the event and for preemption. */
export interface Diagnosis {
  numAllNodes: number;
  /** A PreFilter rejection applies to every node. */
  preFilter?: Status;
  nodes: Map<string, Status>;
  /** Plugins that rejected the pod (for queueing hints). */
  plugins: Set<string>;
}

export type ScheduleResult =
  | { node: string; state: CycleState; evaluated: number; feasible: number }
  | { node?: undefined; state: CycleState; diagnosis: Diagnosis };

export interface FrameworkOptions {
  plugins: Plugin[];
  /** 0 (default) adapts to cluster size like upstream; otherwise a percentage of nodes to find feasible. */
  percentageOfNodesToScore?: number;
  /** For tie-breaks; injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * The scheduling algorithm over a set of plugins: PreFilter, then Filter on
 * nodes (round-robin from where the last cycle stopped, until enough feasible
 * nodes are found), then PreScore/Score/NormalizeScore on the feasible ones,
 * weighted and summed; the highest total wins, ties broken at random.
 */
export class Framework {
  readonly plugins: readonly Plugin[];
  readonly #preFilters: Plugin[];
  readonly #filters: Plugin[];
  readonly #scorers: Plugin[];
  readonly #pct: number;
  readonly #random: () => number;
  #nextStart = 0;

  constructor(opts: FrameworkOptions) {
    this.plugins = opts.plugins;
    this.#preFilters = opts.plugins.filter((p) => p.preFilter);
    this.#filters = opts.plugins.filter((p) => p.filter);
    this.#scorers = opts.plugins.filter((p) => p.score);
    this.#pct = opts.percentageOfNodesToScore ?? 0;
    this.#random = opts.random ?? Math.random;
  }

  /** Runs every Filter plugin for `pod` on one node (PreFilter must have run on `state`). */
  runFilters(state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    for (const p of this.#filters) {
      const st = p.filter!(state, pod, node);
      if (st) return { ...st, plugin: p.name };
    }
    return undefined;
  }

  /**
   * Filters with the pods nominated to the node (by preemption) counted as if
   * running there, when they are at least as important as `pod`: the room
   * preemption made is kept for the preemptor.
   */
  filterWithNominated(state: CycleState, pod: Pod, node: NodeInfo, snap: Snapshot): Status | undefined {
    const nominated = snap.nominatedOn(node.name);
    if (nominated.length) {
      const prio = priorityOf(pod);
      const uid = pod.metadata.uid;
      const extra = nominated.filter((pi) => pi.pod.metadata.uid !== uid && priorityOf(pi.pod) >= prio);
      if (extra.length) return this.runFilters(state, pod, node.clone(undefined, extra));
    }
    return this.runFilters(state, pod, node);
  }

  runPreFilters(state: CycleState, pod: Pod, snap: Snapshot): Status | undefined {
    for (const p of this.#preFilters) {
      const st = p.preFilter!(state, pod, snap);
      if (st) return { ...st, plugin: p.name };
    }
    return undefined;
  }

  schedule(pod: Pod, snap: Snapshot): ScheduleResult {
    const state: CycleState = new Map();
    const all = snap.nodes;
    const diagnosis: Diagnosis = { numAllNodes: all.length, nodes: new Map(), plugins: new Set() };
    const pre = this.runPreFilters(state, pod, snap);
    if (pre) {
      diagnosis.preFilter = pre;
      if (pre.plugin) diagnosis.plugins.add(pre.plugin);
      return { state, diagnosis };
    }
    const feasible: NodeInfo[] = [];
    const want = this.#numToFind(all.length);
    // A nominated node (from preemption) is tried first.
    const nominated = (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName;
    const nom = nominated ? snap.get(nominated) : undefined;
    if (nom && !this.filterWithNominated(state, pod, nom, snap))
      return { node: nom.name, state, evaluated: 1, feasible: 1 };
    let evaluated = 0;
    for (; evaluated < all.length && feasible.length < want; evaluated++) {
      const ni = all[(this.#nextStart + evaluated) % all.length]!;
      const st = this.filterWithNominated(state, pod, ni, snap);
      if (!st) feasible.push(ni);
      else {
        diagnosis.nodes.set(ni.name, st);
        if (st.plugin) diagnosis.plugins.add(st.plugin);
      }
    }
    this.#nextStart = all.length ? (this.#nextStart + evaluated) % all.length : 0;
    if (!feasible.length) return { state, diagnosis };
    if (feasible.length === 1) return { node: feasible[0]!.name, state, evaluated, feasible: 1 };
    const totals = this.#score(state, pod, feasible, snap);
    let best = -Infinity;
    let pick = feasible[0]!;
    let ties = 0;
    for (let i = 0; i < feasible.length; i++) {
      const t = totals[i]!;
      if (t > best) {
        best = t;
        pick = feasible[i]!;
        ties = 1;
      } else if (t === best && this.#random() * ++ties < 1) pick = feasible[i]!;
    }
    return { node: pick.name, state, evaluated, feasible: feasible.length };
  }

  #score(state: CycleState, pod: Pod, nodes: NodeInfo[], snap: Snapshot): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    const scores = new Array<number>(nodes.length);
    for (const p of this.#scorers) {
      if (p.preScore?.(state, pod, nodes, snap) === false) continue;
      for (let i = 0; i < nodes.length; i++) scores[i] = p.score!(state, pod, nodes[i]!);
      p.normalizeScore?.(state, pod, scores);
      const w = p.weight ?? 1;
      for (let i = 0; i < nodes.length; i++) totals[i]! += w * scores[i]!;
    }
    return totals;
  }

  /** Upstream's adaptive percentage: all nodes up to 100, then 50% shrinking to 5%, at least 100. */
  #numToFind(n: number): number {
    if (n < 100 || this.#pct >= 100) return n;
    const pct = this.#pct || Math.max(5, 50 - Math.floor(n / 125));
    return Math.max(100, Math.floor((n * pct) / 100));
  }
}

/** Scales raw scores to 0..maxNodeScore (highest raw → 100); `reverse` makes the lowest raw best. */
export function normalize(scores: number[], reverse = false): void {
  let max = 0;
  for (const s of scores) max = Math.max(max, s);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (max === 0) scores[i] = reverse ? maxNodeScore : 0;
    else scores[i] = reverse ? maxNodeScore - (maxNodeScore * s) / max : (maxNodeScore * s) / max;
  }
}

/** Scales scores linearly so the lowest becomes 0 and the highest 100 (`reverse`: the other way round). */
export function normalizeMinMax(scores: number[], reverse: boolean, whenEqual: number): void {
  let min = Infinity;
  let max = -Infinity;
  for (const s of scores) {
    min = Math.min(min, s);
    max = Math.max(max, s);
  }
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (max === min) scores[i] = whenEqual;
    else scores[i] = (maxNodeScore * (reverse ? max - s : s - min)) / (max - min);
  }
}

/**
 * Upstream's FailedScheduling summary: "0/3 nodes are available: 1 Insufficient
 * cpu, 2 node(s) had untolerated taint {k: v}." — counts per reason, sorted as
 * strings, then the preemption summary when there is one.
 */
export function fitErrorMessage(d: Diagnosis, postFilter?: string): string {
  let msg = `0/${d.numAllNodes} nodes are available:`;
  if (d.preFilter) msg += ` ${d.preFilter.reasons.join(', ')}.`;
  else if (d.numAllNodes === 0) msg = 'no nodes available to schedule pods';
  else {
    const counts = new Map<string, number>();
    for (const st of d.nodes.values()) for (const r of st.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    msg += ` ${parts.join(', ')}.`;
  }
  return postFilter ? `${msg} ${postFilter}` : msg;
}
