import type { Clock, Pod } from '../client/index.ts';
import { keyOf, realClock } from '../client/index.ts';
import { Heap } from './heap.ts';
import type { ClusterEvent } from './types.ts';

/** A pod waiting to be scheduled, with its queueing history. */
export interface QueuedPod {
  pod: Pod;
  key: string;
  /** When it entered the queue (ms); the tie-break after priority. */
  timestamp: number;
  /** When it was first queued; for latency metrics. */
  initialAttempt: number;
  attempts: number;
  /** Plugins that rejected it last time; only their events bring it back early. */
  unschedulablePlugins: Set<string>;
  /** The move-request cycle when it was popped (see moveAll). */
  cycle: number;
}

export interface QueueOptions {
  /** Orders the active queue (the QueueSort plugin, PrioritySort by default). */
  less: (a: QueuedPod, b: QueuedPod) => boolean;
  /** Which plugins care about which events; others' rejections aren't undone by them. */
  pluginEvents: ReadonlyMap<string, readonly ClusterEvent[]>;
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Pods left unschedulable this long go back to active anyway (default 5 min). */
  maxUnschedulableMs?: number;
}

/**
 * Upstream's scheduling queue: activeQ (a heap in QueueSort order), backoffQ
 * (pods that failed, waiting 1 s → 10 s doubling per attempt) and
 * unschedulable (pods no node fits, waiting for a cluster event one of the
 * plugins that rejected them cares about, or for the periodic flush).
 */
export class SchedulingQueue {
  readonly #active: Heap<QueuedPod>;
  readonly #backoff = new Heap<QueuedPod & { readyAt: number }>((a, b) => a.readyAt < b.readyAt);
  readonly #unschedulable = new Map<string, QueuedPod>();
  readonly #inFlight = new Set<string>();
  readonly #o: Required<Omit<QueueOptions, 'clock'>>;
  readonly #clock: Clock;
  readonly #waiters: ((p: QueuedPod | undefined) => void)[] = [];
  #moveCycle = 0;
  #closed = false;
  #timer: (() => void) | undefined;
  #flushTimer: (() => void) | undefined;

  constructor(opts: QueueOptions) {
    this.#clock = opts.clock ?? realClock;
    this.#o = { initialBackoffMs: 1000, maxBackoffMs: 10_000, maxUnschedulableMs: 300_000, ...opts };
    this.#active = new Heap(opts.less);
    this.#scheduleFlush();
  }

  get length(): { active: number; backoff: number; unschedulable: number } {
    return {
      active: this.#active.size,
      backoff: this.#backoff.size,
      unschedulable: this.#unschedulable.size,
    };
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const key = keyOf(pod);
    if (this.#inFlight.has(key)) return;
    const old = this.#take(key);
    const now = this.#clock.now();
    this.#push(
      old
        ? { ...old, pod }
        : {
            pod,
            key,
            timestamp: now,
            initialAttempt: now,
            attempts: 0,
            unschedulablePlugins: new Set(),
            cycle: 0,
          },
    );
  }

  /** A pending pod changed: an unschedulable one gets another try at once. */
  update(pod: Pod): void {
    const key = keyOf(pod);
    const active = this.#active.get(key);
    const b = this.#backoff.get(key);
    const u = this.#unschedulable.get(key);
    if (active) this.#active.set(key, { ...active, pod });
    else if (b) this.#backoff.set(key, { ...b, pod });
    else if (u) {
      this.#unschedulable.delete(key);
      this.#push({ ...u, pod });
    } else this.add(pod);
  }

  delete(key: string): void {
    this.#take(key);
  }

  /** Waits for the next pod in QueueSort order; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const p = this.#active.pop();
    if (p) return Promise.resolve(this.#started(p));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The pod's cycle ended (bound, or handed back with a `requeue*` call). */
  done(key: string): void {
    this.#inFlight.delete(key);
  }

  /**
   * No node fits: park it until a relevant event; but if such an event came
   * while it was being scheduled, back off instead (it may fit now).
   */
  requeueUnschedulable(qp: QueuedPod, plugins: Iterable<string>): void {
    this.#inFlight.delete(qp.key);
    // A newer version queued meanwhile (the pod changed) takes precedence.
    if (this.#closed || this.#active.has(qp.key) || this.#backoff.has(qp.key)) return;
    const next = { ...qp, timestamp: this.#clock.now(), unschedulablePlugins: new Set(plugins) };
    if (this.#moveCycle > qp.cycle) this.#toBackoff(next);
    else this.#unschedulable.set(qp.key, next);
  }

  /** An error (e.g. binding failed): retry after back-off. */
  requeueBackoff(qp: QueuedPod): void {
    this.#inFlight.delete(qp.key);
    const newer = this.#take(qp.key);
    if (!this.#closed) this.#toBackoff({ ...qp, pod: newer?.pod ?? qp.pod, timestamp: this.#clock.now() });
  }

  /**
   * A cluster event: unschedulable pods rejected by a plugin interested in it
   * move to active (or backoff, if their back-off has not expired).
   */
  moveAll(event: ClusterEvent): void {
    this.#moveCycle++;
    for (const [key, qp] of this.#unschedulable) {
      if (!this.#cares(qp, event)) continue;
      this.#unschedulable.delete(key);
      if (this.#backoffUntil(qp) > this.#clock.now()) this.#toBackoff(qp);
      else this.#push(qp);
    }
  }

  close(): void {
    this.#closed = true;
    this.#timer?.();
    this.#flushTimer?.();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #cares(qp: QueuedPod, event: ClusterEvent): boolean {
    if (!qp.unschedulablePlugins.size) return true;
    for (const p of qp.unschedulablePlugins)
      if (this.#o.pluginEvents.get(p)?.includes(event) ?? true) return true;
    return false;
  }

  #started(p: QueuedPod): QueuedPod {
    this.#inFlight.add(p.key);
    return { ...p, attempts: p.attempts + 1, cycle: this.#moveCycle };
  }

  #push(p: QueuedPod): void {
    const w = this.#waiters.shift();
    if (w) w(this.#started(p));
    else this.#active.set(p.key, p);
  }

  #take(key: string): QueuedPod | undefined {
    const a = this.#active.get(key);
    if (a) this.#active.delete(key);
    const b = this.#backoff.get(key);
    if (b) this.#backoff.delete(key);
    const u = this.#unschedulable.get(key);
    this.#unschedulable.delete(key);
    return a ?? b ?? u;
  }

  #backoffUntil(qp: QueuedPod): number {
    const ms = Math.min(this.#o.initialBackoffMs * 2 ** Math.max(0, qp.attempts - 1), this.#o.maxBackoffMs);
    return qp.timestamp + ms;
  }

  #toBackoff(qp: QueuedPod): void {
    const readyAt = this.#backoffUntil(qp);
    this.#backoff.set(qp.key, { ...qp, readyAt });
    if (this.#backoff.peek()?.key === qp.key) this.#armBackoff();
  }

  #armBackoff(): void {
    this.#timer?.();
    const head = this.#backoff.peek();
    if (!head || this.#closed) return;
    this.#timer = this.#clock.after(head.readyAt - this.#clock.now(), () => {
      this.#timer = undefined;
      const now = this.#clock.now();
      for (let h = this.#backoff.peek(); h && h.readyAt <= now; h = this.#backoff.peek()) {
        this.#backoff.pop();
        const { readyAt: _, ...qp } = h;
        this.#push(qp);
      }
      this.#armBackoff();
    });
  }

  /** Every 30 s, pods unschedulable for longer than maxUnschedulableMs get another try. */
  #scheduleFlush(): void {
    this.#flushTimer = this.#clock.after(30_000, () => {
      if (this.#closed) return;
      const now = this.#clock.now();
      for (const [key, qp] of this.#unschedulable) {
        if (now - qp.timestamp < this.#o.maxUnschedulableMs) continue;
        this.#unschedulable.delete(key);
        this.#push(qp);
      }
      this.#scheduleFlush();
    });
  }
}
