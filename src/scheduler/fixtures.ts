import type { Node, Pod, Taint } from '../client/index.ts';
import { Cache } from './cache.ts';
import type { CycleState, Plugin, SchedulingSpec } from './types.ts';

/** Test fixtures: small constructors for nodes, pods and caches (used by the table tests). */
export function node(
  name: string,
  o: {
    cpu?: string;
    memory?: string;
    pods?: number;
    labels?: Record<string, string>;
    taints?: Taint[];
    unschedulable?: boolean;
    images?: { names: string[]; sizeBytes: number }[];
  } = {},
): Node {
  const alloc = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { capacity: alloc, allocatable: alloc, images: o.images },
  };
}

export function pod(
  name: string,
  o: {
    cpu?: string;
    memory?: string;
    labels?: Record<string, string>;
    nodeName?: string;
    namespace?: string;
    priority?: number;
    owner?: string;
    spec?: Partial<SchedulingSpec>;
  } = {},
): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-${name}`,
      labels: o.labels,
      ownerReferences: o.owner
        ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: o.owner, controller: true }]
        : undefined,
    },
    spec: {
      nodeName: o.nodeName,
      priority: o.priority,
      containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
      ...o.spec,
    },
    status: { phase: o.nodeName ? 'Running' : 'Pending' },
  };
}

/** A cache holding `nodes` and the bound ones among `pods`. */
export function cacheOf(nodes: Node[], pods: Pod[] = []): Cache {
  const c = new Cache();
  for (const n of nodes) c.setNode(n);
  for (const p of pods) c.setPod(p);
  return c;
}

/** PreFilter + Filter of one plugin for `p` on node `on`: undefined when it fits, else the reasons. */
export function filterReasons(plugin: Plugin, p: Pod, c: Cache, on: string): string[] | undefined {
  const state: CycleState = new Map();
  const pre = plugin.preFilter?.(state, p, c);
  if (pre) return pre.reasons;
  return plugin.filter?.(state, p, c.get(on)!)?.reasons;
}

/** PreScore + Score + NormalizeScore of one plugin over every node: node name → score. */
export function scores(plugin: Plugin, p: Pod, c: Cache): Record<string, number> {
  const state: CycleState = new Map();
  const nodes = c.nodes;
  if (plugin.preScore?.(state, p, nodes, c) === false)
    return Object.fromEntries(nodes.map((n) => [n.name, 0]));
  const s = nodes.map((node) => plugin.score!(state, p, node));
  plugin.normalizeScore?.(state, p, s);
  return Object.fromEntries(s.map((x, i) => [nodes[i]!.name, Math.round(x)]));
}
