import {
  type Condition,
  type Informer,
  type Lease,
  type Node,
  nodeNameIndex,
  type Pod,
  resources,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, timestamp } from './controller.ts';
import { EventRecorder } from './events.ts';
import { nodeCondition, reconcileTaints, wantedTaints } from './node-lifecycle-taints.ts';

export const nodeLeaseNamespace = 'kube-node-lease';

export interface NodeLifecycleOptions {
  /** How long a node may go without renewing its Lease or posting status before Ready=Unknown (default 40 s). */
  gracePeriodMs?: number;
  /** The same for a node that never posted a Ready condition (default 60 s). */
  startupGracePeriodMs?: number;
}

/** The conditions a silent node has set to Unknown (upstream's nodeConditionTypes). */
const watchedConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface Health {
  /** When (controller clock) we last saw the node alive: a Lease renewal or a new Ready heartbeat. */
  probe: number;
  renewTime?: string;
  heartbeat?: string;
}

/**
 * Upstream's node lifecycle controller: watches node Leases in
 * kube-node-lease and node heartbeats; a node silent for the grace period gets
 * every condition Unknown ("Kubelet stopped posting node status."). Node
 * taints follow the conditions (unreachable / not-ready NoExecute and
 * NoSchedule, pressure and unschedulable NoSchedule), and pods on a node that
 * is not Ready are marked not Ready. Evicting pods from NoExecute-tainted
 * nodes is the taint eviction controller's job (node-lifecycle-eviction.ts).
 *
 * Liveness is judged on this controller's clock (when it saw a renewal), never
 * by comparing the kubelet's timestamps with ours.
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  readonly queue: Workqueue<string>;
  readonly workers = 2;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #grace: number;
  readonly #startupGrace: number;
  readonly #nodes: Informer<Node>;
  readonly #pods: Informer<Pod>;
  readonly #health = new Map<string, Health>();
  readonly #events: EventRecorder;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = {}) {
    this.#ctx = ctx;
    this.#grace = opts.gracePeriodMs ?? 40_000;
    this.#startupGrace = opts.startupGracePeriodMs ?? Math.max(60_000, this.#grace);
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'node-controller');
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    const leases = ctx.informers.informerFor<Lease>(resources.leases, { namespace: nodeLeaseNamespace });
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { nodeName: nodeNameIndex });
    this.informers = [this.#nodes, leases, this.#pods];
    this.#nodes.addHandler({
      onAdd: (n) => this.#observeNode(n),
      onUpdate: (_, n) => this.#observeNode(n),
      onDelete: (n) => {
        this.#health.delete(n.metadata.name ?? '');
      },
    });
    leases.addHandler({
      onAdd: (l) => this.#observeLease(l),
      onUpdate: (_, l) => this.#observeLease(l),
    });
  }

  #healthOf(name: string): Health {
    let h = this.#health.get(name);
    if (!h) {
      h = { probe: this.#ctx.clock.now() };
      this.#health.set(name, h);
    }
    return h;
  }

  #observeLease(lease: Lease): void {
    const name = lease.metadata.name ?? '';
    const h = this.#healthOf(name);
    const renew = lease.spec?.renewTime;
    if (renew && renew !== h.renewTime) {
      h.renewTime = renew;
      h.probe = this.#ctx.clock.now();
    }
    this.queue.add(name);
  }

  #observeNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const h = this.#healthOf(name);
    const beat = nodeCondition(node, 'Ready')?.lastHeartbeatTime as string | undefined;
    if (beat && beat !== h.heartbeat) {
      h.heartbeat = beat;
      h.probe = this.#ctx.clock.now();
    }
    this.queue.add(name);
  }

  async reconcile(name: string): Promise<void> {
    let node = this.#nodes.store.get(name);
    if (!node) {
      this.#health.delete(name);
      return;
    }
    const now = this.#ctx.clock.now();
    const h = this.#healthOf(name);
    const wasReady = nodeCondition(node, 'Ready')?.status === 'True';
    const grace = nodeCondition(node, 'Ready') ? this.#grace : this.#startupGrace;
    if (now - h.probe > grace) node = await this.#markUnknown(node, now);
    else this.queue.addAfter(name, h.probe + grace - now + 1);
    const taints = reconcileTaints(node, wantedTaints(node), now);
    if (taints) {
      const copy = structuredClone(node) as Node;
      copy.spec = { ...copy.spec, taints };
      node = await this.#ctx.client.update<Node>(resources.nodes, copy);
      this.#ctx.log.debug({ node: name, taints }, 'node taints updated');
    }
    const ready = nodeCondition(node, 'Ready')?.status;
    if (ready !== 'True') {
      if (wasReady)
        this.#events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      await this.#markPodsNotReady(name, now);
    }
  }

  /** Sets every watched condition to Unknown (the kubelet went silent); returns the node as written. */
  async #markUnknown(node: Node, now: number): Promise<Node> {
    const conds = structuredClone(node.status?.conditions ?? []) as Condition[];
    let changed = false;
    for (const type of watchedConditions) {
      const c = conds.find((x) => x.type === type);
      if (!c) {
        conds.push({
          type,
          status: 'Unknown',
          reason: 'NodeStatusNeverUpdated',
          message: 'Kubelet never posted node status.',
          // Not `now`: a heartbeat time we wrote must never look like the kubelet's.
          lastHeartbeatTime: node.metadata.creationTimestamp ?? timestamp(0),
          lastTransitionTime: timestamp(now),
        });
        changed = true;
      } else if (c.status !== 'Unknown') {
        c.status = 'Unknown';
        c.reason = 'NodeStatusUnknown';
        c.message = 'Kubelet stopped posting node status.';
        c.lastTransitionTime = timestamp(now);
        changed = true;
      }
    }
    if (!changed) return node;
    const copy = structuredClone(node) as Node;
    copy.status = { ...copy.status, conditions: conds };
    this.#ctx.log.info({ node: node.metadata.name }, 'node stopped posting status; conditions now Unknown');
    return this.#ctx.client.updateStatus<Node>(resources.nodes, copy);
  }

  /** Upstream's MarkPodsNotReady: pods on a node that is not Ready are not Ready either. */
  async #markPodsNotReady(nodeName: string, now: number): Promise<void> {
    for (const pod of this.#pods.store.byIndex('nodeName', nodeName)) {
      const conds = pod.status?.conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False' || pod.metadata.deletionTimestamp) continue;
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const copy = structuredClone(pod) as Pod;
      copy.status = {
        ...copy.status,
        conditions: conds.map((c) =>
          c.type === 'Ready' ? { ...c, status: 'False' as const, lastTransitionTime: timestamp(now) } : c,
        ),
      };
      try {
        await this.#ctx.client.updateStatus(resources.pods, copy);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
  }
}

/** A factory for the manager's registry with these options (tests shorten the grace period). */
export const nodeLifecycleFactory =
  (opts: NodeLifecycleOptions = {}) =>
  (ctx: ControllerContext) =>
    new NodeLifecycleController(ctx, opts);
