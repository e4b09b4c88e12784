import type { Client, Clock, Condition, Informer, InformerFactory, Node, Pod } from '../client/index.ts';
import { EventRecorder, keyOf, realClock, resources } from '../client/index.ts';
import { ConflictError, describeError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { Cache } from './cache.ts';
import { type Diagnosis, Framework, fitErrorMessage } from './framework.ts';
import { defaultPlugins } from './plugins/index.ts';
import { less } from './plugins/priority-sort.ts';
import { watchPods } from './pod-events.ts';
import { findPreemption } from './preemption.ts';
import { type PriorityClass, resolvePriority } from './priority.ts';
import { type QueuedPod, SchedulingQueue } from './queue.ts';
import type { ClusterEvent, CycleState, Plugin, Status } from './types.ts';
import { volumeListers } from './volume-listers.ts';

export const defaultSchedulerName = 'default-scheduler';

export interface SchedulerOptions {
  client: Client;
  /** Shared informers; the caller starts the factory (before or after `run`). */
  informers: InformerFactory;
  log: Logger;
  /** Pods whose spec.schedulerName differs are left alone (default "default-scheduler"). */
  schedulerName?: string;
  /** Replaces the default plugin set (tests). */
  plugins?: Plugin[];
  clock?: Clock;
  random?: () => number;
  percentageOfNodesToScore?: number;
  /** Whether the PriorityClass API is served (then spec.priority is resolved from it). */
  priorityClasses?: boolean;
  /** Whether to write a Normal "Scheduled" event per bound pod, as upstream (default true). */
  recordScheduledEvents?: boolean;
  /** Bindings in flight at once (default 64). */
  maxInFlightBindings?: number;
  /**
   * Called after each successful binding with the ms from first queueing to
   * bound (queue wait included) and the ms of the successful scheduling cycle itself.
   */
  onBound?(pod: Pod, node: string, latencyMs: number, cycleMs: number): void;
}

/**
 * The scheduling loop: pop a pod, run the framework over the cache (a
 * synchronous cycle), assume the pod on the chosen node, and bind it through
 * pods/binding asynchronously; on failure forget the assumption and requeue.
 * Pods that fit nowhere get a FailedScheduling event, PodScheduled=False, and
 * (if their priority allows) preemption of lower-priority pods.
 */
export class Scheduler {
  readonly cache = new Cache();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly #o: SchedulerOptions;
  readonly #name: string;
  readonly #clock: Clock;
  readonly #events: EventRecorder;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #classes: Informer<PriorityClass> | undefined;
  readonly #log: Logger;
  #inFlight = 0;
  #slot: (() => void) | undefined;
  readonly #binds = new Set<Promise<void>>();
  readonly #unhook: (() => void)[] = [];

  constructor(opts: SchedulerOptions) {
    this.#o = opts;
    this.#name = opts.schedulerName ?? defaultSchedulerName;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.log.child({ component: 'scheduler' });
    this.#events = new EventRecorder({
      client: opts.client,
      component: this.#name,
      log: this.#log,
      clock: this.#clock,
    });
    const inf = opts.informers;
    this.#pods = inf.informerFor<Pod>(resources.pods);
    this.#nodes = inf.informerFor<Node>(resources.nodes);
    this.#classes = opts.priorityClasses
      ? inf.informerFor<PriorityClass>(resources.priorityClasses)
      : undefined;
    const plugins =
      opts.plugins ??
      defaultPlugins({
        volumes: volumeListers(inf, () => this.queue.moveAll('VolumeChange')),
        client: opts.client,
      });
    this.framework = new Framework({
      plugins,
      random: opts.random,
      percentageOfNodesToScore: opts.percentageOfNodesToScore,
    });
    const pluginEvents = new Map<string, readonly ClusterEvent[]>(
      plugins.map((p) => [p.name, p.events ?? ['NodeAdd', 'NodeUpdate', 'PodDelete']]),
    );
    this.queue = new SchedulingQueue({ less, pluginEvents, clock: this.#clock });
  }

  get name(): string {
    return this.#name;
  }

  /** Whether this scheduler is responsible for `pod` (unbound, ours, not being deleted). */
  isResponsible(pod: Pod): boolean {
    return (
      !pod.spec?.nodeName &&
      !pod.metadata.deletionTimestamp &&
      (pod.spec?.schedulerName ?? defaultSchedulerName) === this.#name &&
      pod.status?.phase !== 'Succeeded' &&
      pod.status?.phase !== 'Failed'
    );
  }

  #event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    // Informer objects (list items) may lack kind; the event's involvedObject needs it.
    this.#events.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message);
  }

  /** Registers the informer handlers, waits for the caches, and schedules until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.#unhook.push(
      watchPods({
        pods: this.#pods,
        nodes: this.#nodes,
        cache: this.cache,
        queue: this.queue,
        responsible: (p) => this.isResponsible(p),
        resolve: (p) => resolvePriority(p, this.#classes?.store),
      }),
    );
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    const synced = await Promise.all([this.#pods.waitForSync(signal), this.#nodes.waitForSync(signal)]);
    if (!synced.every(Boolean)) return this.#shutdown();
    this.#log.info({ schedulerName: this.#name }, 'scheduler started');
    let lastYield = this.#clock.now();
    while (!signal.aborted) {
      const qp = await this.queue.pop();
      if (!qp) break;
      this.scheduleOne(qp);
      // Let I/O (watch events, binding responses) in between cycles.
      if (this.#inFlight >= (this.#o.maxInFlightBindings ?? 64))
        await new Promise<void>((r) => (this.#slot = r));
      else if (performance.now() - lastYield > 20) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.queue.close();
    for (const u of this.#unhook.splice(0)) u();
    await Promise.allSettled([...this.#binds]);
    this.#log.info('scheduler stopped');
  }

  /** One scheduling cycle for a popped pod (synchronous; binding continues in the background). */
  scheduleOne(qp: QueuedPod): void {
    const key = qp.key;
    const current = this.#pods.store.get(key);
    if (!current || !this.isResponsible(current) || this.cache.isPlaced(key)) {
      this.queue.done(key);
      return;
    }
    const started = performance.now();
    const pod = resolvePriority(current, this.#classes?.store);
    const result = this.framework.schedule(pod, this.cache);
    if (result.node === undefined) {
      this.#failed(qp, pod, result.state, result.diagnosis);
      return;
    }
    const node = result.node;
    this.cache.assume(pod, node);
    const rejected = this.#reserve(result.state, pod, node);
    if (rejected) {
      this.#unreserve(result.state, pod, node);
      this.cache.forget(key);
      this.#log.debug({ pod: key, node, reasons: rejected.reasons }, 'reserve failed');
      this.queue.requeueBackoff(qp);
      return;
    }
    this.queue.done(key);
    this.#inFlight++;
    const cycleMs = performance.now() - started;
    const p = this.#bind(qp, pod, node, result.state, cycleMs).finally(() => {
      this.#inFlight--;
      this.#binds.delete(p);
      const s = this.#slot;
      this.#slot = undefined;
      s?.();
    });
    this.#binds.add(p);
  }

  #reserve(state: CycleState, pod: Pod, node: string): Status | undefined {
    for (const pl of this.framework.plugins) {
      const st = pl.reserve?.(state, pod, node);
      if (st) return { ...st, plugin: pl.name };
    }
    return undefined;
  }

  #unreserve(state: CycleState, pod: Pod, node: string): void {
    for (const pl of [...this.framework.plugins].reverse()) {
      try {
        pl.unreserve?.(state, pod, node);
      } catch (err) {
        this.#log.warn({ plugin: pl.name, err: describeError(err) }, 'unreserve failed');
      }
    }
  }

  async #bind(qp: QueuedPod, pod: Pod, node: string, state: CycleState, cycleMs: number): Promise<void> {
    let binding = false;
    try {
      for (const pl of this.framework.plugins) await pl.preBind?.(state, pod, node);
      binding = true;
      let bound = false;
      for (const pl of this.framework.plugins) {
        if (pl.bind && (await pl.bind(state, pod, node))) {
          bound = true;
          break;
        }
      }
      if (!bound) await this.#defaultBind(pod, node);
      this.#log.debug({ pod: qp.key, node }, 'pod bound');
      if (this.#o.recordScheduledEvents !== false)
        this.#event(pod, 'Normal', 'Scheduled', `Successfully assigned ${qp.key} to ${node}`);
      this.#o.onBound?.(pod, node, this.#clock.now() - qp.initialAttempt, cycleMs);
    } catch (err) {
      this.#unreserve(state, pod, node);
      this.cache.forget(qp.key);
      // The pod is gone, or someone else bound it: nothing to retry.
      if (binding && (err instanceof NotFoundError || err instanceof ConflictError)) {
        this.#log.debug({ pod: qp.key, node, err: describeError(err) }, 'binding dropped');
        return;
      }
      this.#log.warn({ pod: qp.key, node, err: describeError(err) }, 'binding failed');
      this.#event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${describeError(err)}`);
      this.queue.requeueBackoff(qp);
    }
  }

  /** The default binder: POST pods/binding. */
  async #defaultBind(pod: Pod, node: string): Promise<void> {
    const { name = '', namespace = 'default', uid } = pod.metadata;
    await this.#o.client.createSubresource(
      resources.pods,
      name,
      'binding',
      {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      },
      { namespace },
    );
  }

  #failed(qp: QueuedPod, pod: Pod, state: CycleState, d: Diagnosis): void {
    const pre = d.numAllNodes
      ? findPreemption({ pod, snap: this.cache, framework: this.framework, state, diagnosis: d })
      : undefined;
    const message = fitErrorMessage(d, pre?.message);
    this.#log.debug({ pod: qp.key, message }, 'pod unschedulable');
    this.#event(pod, 'Warning', 'FailedScheduling', message);
    let nominated: string | undefined;
    if (pre?.preemption) {
      nominated = pre.preemption.node;
      this.cache.nominate(pod, nominated);
      for (const v of pre.preemption.victims) {
        this.#event(v, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${nominated}`);
        void this.#o.client
          .delete(resources.pods, v.metadata.name ?? '', { namespace: v.metadata.namespace })
          .catch((err: unknown) => this.#log.debug({ err: describeError(err) }, 'deleting victim failed'));
      }
    }
    void this.#setUnschedulable(pod, message, nominated);
    this.queue.requeueUnschedulable(qp, d.plugins);
  }

  /** PodScheduled=False/Unschedulable (and nominatedNodeName), written only when it changes. */
  async #setUnschedulable(pod: Pod, message: string, nominated?: string): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const oldNominated = (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName;
    if (old?.status === 'False' && old.message === message && (!nominated || nominated === oldNominated))
      return;
    const cond: Condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    const others = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    const status: Record<string, unknown> = { conditions: [...others, cond] };
    if (nominated) status.nominatedNodeName = nominated;
    try {
      await this.#o.client.patch(
        resources.pods,
        pod.metadata.name ?? '',
        'merge',
        { status },
        { namespace: pod.metadata.namespace, subresource: 'status' },
      );
    } catch (err) {
      this.#log.debug({ pod: keyOf(pod), err: describeError(err) }, 'updating PodScheduled failed');
    }
  }
}
