import type { Client, Clock, Informer, InformerFactory, Lease, Node, Pod } from '../../client/index.ts';
import { keyOf, realClock, resources, runWorkers, Workqueue } from '../../client/index.ts';
import { AlreadyExistsError, ConflictError, describeError, NotFoundError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import {
  type Capacity,
  leaseObject,
  microTime,
  nodeIP,
  nodeLeaseNamespace,
  nodeObject,
  nodeStatus,
  podIP,
  runningStatus,
} from './objects.ts';

export interface HollowNodesOptions {
  client: Client;
  /** Shared informers; the pod informer is taken from here (the caller starts the factory). */
  informers: InformerFactory;
  log: Logger;
  count: number;
  /** Node names are `${prefix}${i}` (default "hollow-node-"). */
  prefix?: string;
  capacity?: Partial<Capacity>;
  /** Lease renewal period (default 10 s, as the kubelet). */
  leaseRenewMs?: number;
  /** Node status (Ready heartbeat) period (default 60 s). */
  statusMs?: number;
  /** Parallel API writes (default 16). */
  workers?: number;
  clock?: Clock;
}

interface Hollow {
  name: string;
  index: number;
  uid?: string;
  lease?: Lease;
  pods: number;
}

/**
 * Kubemark's idea in one process: N Node objects that look healthy (capacity,
 * Ready condition, a node Lease renewed every 10 s) and a fake kubelet that
 * reports every pod bound to them Running and Ready, with a pod IP from a
 * per-node fake range, without starting any container. Deleted pods (with a
 * deletionTimestamp) are finished at once, as a kubelet would once stopped.
 */
export class HollowNodes {
  readonly names: string[];
  readonly #o: HollowNodesOptions;
  readonly #cap: Capacity;
  readonly #clock: Clock;
  readonly #nodes = new Map<string, Hollow>();
  readonly #queue: Workqueue<string>;
  readonly #pods: Informer<Pod>;
  readonly #abort = new AbortController();
  readonly #timers: (() => void)[] = [];
  #workers: Promise<void> | undefined;
  #unhook: (() => void) | undefined;

  constructor(opts: HollowNodesOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#cap = { cpu: '4', memory: '32Gi', pods: 110, ...opts.capacity };
    const prefix = opts.prefix ?? 'hollow-node-';
    this.names = Array.from({ length: opts.count }, (_, i) => `${prefix}${i}`);
    this.names.forEach((name, index) => {
      this.#nodes.set(name, { name, index, pods: 0 });
    });
    this.#queue = new Workqueue<string>({ clock: this.#clock });
    this.#pods = opts.informers.informerFor<Pod>(resources.pods);
  }

  /** Registers the nodes and their leases, then keeps them alive and runs their pods. */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    await this.#parallel([...this.#nodes.values()], (h) => this.#register(h));
    this.#unhook = this.#pods.addHandler({
      onAdd: (p) => this.#enqueue(p),
      onUpdate: (_o, p) => this.#enqueue(p),
    });
    this.#workers = runWorkers(this.#queue, this.#o.workers ?? 16, (key) => this.#syncPod(key), {
      signal,
      log: this.#o.log,
    });
    this.#every(this.#o.leaseRenewMs ?? 10_000, () =>
      this.#parallel([...this.#nodes.values()], (h) => this.#renew(h)),
    );
    this.#every(this.#o.statusMs ?? 60_000, () =>
      this.#parallel([...this.#nodes.values()], (h) => this.#postStatus(h)),
    );
    this.#o.log.info({ nodes: this.names.length }, 'hollow nodes registered');
  }

  /** Stops heartbeats and pod handling. The Node objects stay (they go NotReady, as a stopped kubelet's). */
  async stop(): Promise<void> {
    this.#abort.abort();
    for (const cancel of this.#timers.splice(0)) cancel();
    this.#unhook?.();
    this.#queue.shutDown();
    await this.#workers;
  }

  #every(ms: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (this.#abort.signal.aborted) return;
      void fn().finally(() => {
        if (!this.#abort.signal.aborted) this.#timers.push(this.#clock.after(ms, tick));
      });
    };
    this.#timers.push(this.#clock.after(ms, tick));
  }

  async #parallel<T>(items: T[], fn: (x: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length && !this.#abort.signal.aborted) {
        const item = items[next++]!;
        await fn(item).catch((err: unknown) =>
          this.#o.log.warn({ err: describeError(err) }, 'hollow node request failed'),
        );
      }
    };
    await Promise.all(Array.from({ length: this.#o.workers ?? 16 }, worker));
  }

  async #register(h: Hollow): Promise<void> {
    const { client } = this.#o;
    let node: Node;
    try {
      node = await client.create<Node>(resources.nodes, nodeObject(h.name, h.index));
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      node = await client.get<Node>(resources.nodes, h.name);
    }
    h.uid = node.metadata.uid;
    await this.#postStatus(h);
    await this.#renew(h);
  }

  async #postStatus(h: Hollow): Promise<void> {
    await this.#o.client.patch(
      resources.nodes,
      h.name,
      'merge',
      { status: nodeStatus(h.index, this.#cap, this.#clock.now()) },
      { subresource: 'status' },
    );
  }

  async #renew(h: Hollow): Promise<void> {
    const { client } = this.#o;
    const now = this.#clock.now();
    try {
      if (!h.lease) {
        h.lease = await client.create<Lease>(resources.leases, leaseObject(h.name, h.uid, now));
        return;
      }
      h.lease = await client.update<Lease>(resources.leases, {
        ...h.lease,
        spec: { ...h.lease.spec, renewTime: microTime(now) },
      });
    } catch (err) {
      if (err instanceof AlreadyExistsError || err instanceof ConflictError || err instanceof NotFoundError) {
        // Someone else wrote it (or it is gone): read it back and renew next period.
        h.lease = await client
          .get<Lease>(resources.leases, h.name, { namespace: nodeLeaseNamespace })
          .catch(() => undefined);
        return;
      }
      throw err;
    }
  }

  #enqueue(p: Pod): void {
    const node = p.spec?.nodeName;
    if (!node || !this.#nodes.has(node)) return;
    const phase = p.status?.phase;
    if (p.metadata.deletionTimestamp || (phase !== 'Running' && phase !== 'Succeeded' && phase !== 'Failed'))
      this.#queue.add(keyOf(p));
  }

  /** Reports the pod Running (or finishes its deletion); errors are retried by the workqueue. */
  async #syncPod(key: string): Promise<void> {
    const pod = this.#pods.store.get(key);
    const h = pod?.spec?.nodeName ? this.#nodes.get(pod.spec.nodeName) : undefined;
    if (!pod || !h) return;
    const { name = '', namespace } = pod.metadata;
    try {
      if (pod.metadata.deletionTimestamp) {
        await this.#o.client.delete(resources.pods, name, {
          namespace,
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid },
        });
        return;
      }
      if (pod.status?.phase === 'Running') return;
      const status = runningStatus(pod, podIP(h.index, h.pods++), nodeIP(h.index), this.#clock.now());
      await this.#o.client.patch(
        resources.pods,
        name,
        'merge',
        { status },
        { namespace, subresource: 'status' },
      );
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof ConflictError) return;
      throw err;
    }
  }
}
