import {
  type Condition,
  type Informer,
  keyOf,
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
import { evictionVerdict } from './node-lifecycle-taints.ts';

const noExecuteOf = (n: Node | undefined) =>
  JSON.stringify((n?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute'));

/**
 * Upstream's taint eviction controller (the NoExecute taint manager): a pod on
 * a node with a NoExecute taint it does not tolerate is deleted at once; one
 * it tolerates for `tolerationSeconds` is deleted when that runs out (its key
 * is queued for then, and the verdict taken again, so a taint removed in the
 * meantime saves it). Before deleting, the pod gets the DisruptionTarget
 * condition, as upstream writes it.
 */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  readonly queue: Workqueue<string>;
  readonly workers = 4;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #nodes: Informer<Node>;
  readonly #pods: Informer<Pod>;
  readonly #events: EventRecorder;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'taint-eviction-controller');
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { nodeName: nodeNameIndex });
    this.informers = [this.#nodes, this.#pods];
    const enqueueNode = (n: Node) => {
      if (noExecuteOf(n) === '[]') return;
      for (const p of this.#pods.store.byIndex('nodeName', n.metadata.name ?? '')) this.queue.add(keyOf(p));
    };
    this.#nodes.addHandler({
      onAdd: enqueueNode,
      onUpdate: (old, n) => {
        if (noExecuteOf(old) !== noExecuteOf(n)) enqueueNode(n);
      },
    });
    const enqueuePod = (p: Pod) => {
      if (p.spec?.nodeName && !p.metadata.deletionTimestamp) this.queue.add(keyOf(p));
    };
    this.#pods.addHandler({
      onAdd: enqueuePod,
      onUpdate: (old, p) => {
        const moved = old.spec?.nodeName !== p.spec?.nodeName;
        const tolerations = JSON.stringify(old.spec?.tolerations) !== JSON.stringify(p.spec?.tolerations);
        if (moved || tolerations) enqueuePod(p);
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    const pod = this.#pods.store.get(key);
    if (!pod?.spec?.nodeName || pod.metadata.deletionTimestamp) return;
    const node = this.#nodes.store.get(pod.spec.nodeName);
    const taints = node?.spec?.taints ?? [];
    if (!node || !taints.some((t) => t.effect === 'NoExecute')) return;
    const created = Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
    const verdict = evictionVerdict(taints, pod.spec.tolerations ?? [], created);
    const now = this.#ctx.clock.now();
    if (!verdict.now) {
      if (verdict.at === undefined) return;
      if (verdict.at > now) {
        this.queue.addAfter(key, verdict.at - now);
        return;
      }
    }
    await this.#evict(pod, now);
  }

  async #evict(pod: Pod, now: number): Promise<void> {
    const { client, log } = this.#ctx;
    const { name = '', namespace } = pod.metadata;
    const target: Condition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
      lastTransitionTime: timestamp(now),
    };
    const copy = structuredClone(pod) as Pod;
    const conds = (copy.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
    copy.status = { ...copy.status, conditions: [...conds, target] };
    try {
      await client.updateStatus(resources.pods, copy);
      this.#events.record(
        pod,
        'Normal',
        'TaintManagerEviction',
        `Marking for deletion Pod ${namespace}/${name}`,
      );
      await client.delete(resources.pods, name, { namespace, preconditions: { uid: pod.metadata.uid } });
      log.info({ pod: keyOf(pod), node: pod.spec?.nodeName }, 'evicted pod from NoExecute-tainted node');
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

export const newTaintEvictionController = (ctx: ControllerContext) => new TaintEvictionController(ctx);
