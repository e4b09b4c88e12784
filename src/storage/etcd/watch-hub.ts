import type { Etcd3 } from 'etcd3';
import { UnavailableError } from '../../lib/errors.ts';
import { EventQueue } from '../event-queue.ts';
import { Progress } from '../progress.ts';
import type { WatchEvent, WatchOptions } from '../store.ts';
import { type EtcdWatchDeps, watchEtcd } from './watch.ts';

interface Subscription {
  prefix: string;
  queue: EventQueue;
  progress: Progress;
}

/**
 * One etcd watch over every key, fanned out in process to all of this
 * store's watchers (what the Kubernetes apiserver's watch cache does for
 * etcd): with 100 watchers etcd sends, and this process decodes, each event
 * once instead of 100 times.
 *
 * The hub knows `#known`: every event up to that revision has reached it. A
 * watcher subscribes and reads `#known` in one synchronous step, so the hub
 * delivers it every event after `#known`. If it asked for an older start,
 * a short-lived etcd watch replays the gap (fromRevision, #known] first. The
 * gap watch covers all keys so that it is sure to reach `#known` (the hub saw
 * an event there) even when nothing under the watcher's prefix changed; this
 * relies on each etcd revision writing one key, as EtcdStore's writes do.
 */
export class EtcdWatchHub {
  readonly #client: Etcd3;
  readonly #deps: EtcdWatchDeps;
  readonly #currentRevision: () => Promise<number>;
  readonly #subs = new Set<Subscription>();
  #known = 0;
  #started: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #closed = false;

  constructor(client: Etcd3, deps: EtcdWatchDeps & { currentRevision: () => Promise<number> }) {
    this.#client = client;
    this.#deps = deps;
    this.#currentRevision = deps.currentRevision;
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    return { [Symbol.asyncIterator]: () => this.#run(options) };
  }

  /** Ends every watcher normally and stops the shared etcd watch. */
  close(): void {
    this.#closed = true;
    this.#stop?.abort();
    for (const sub of this.#subs) sub.queue.end();
    this.#subs.clear();
  }

  async *#run(options: WatchOptions): AsyncGenerator<WatchEvent> {
    const { prefix, fromRevision, signal } = options;
    if (signal?.aborted) return;
    await this.#start(fromRevision);
    if (this.#closed) throw new UnavailableError('watching: the store is closed');
    const sub: Subscription = {
      prefix,
      queue: new EventQueue(this.#deps.capacity),
      progress: new Progress(options.onProgress, fromRevision),
    };
    this.#subs.add(sub);
    const known = this.#known;
    const onAbort = (): void => sub.queue.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (fromRevision < known) {
        const gap = watchEtcd(this.#client, { prefix: '', fromRevision, signal }, this.#deps);
        for await (const e of gap) {
          if (e.kv.modRevision > known) break;
          if (e.kv.key.startsWith(prefix)) yield e;
          if (e.kv.modRevision === known) break;
        }
      }
      const after = Math.max(fromRevision, known);
      sub.progress.report(known);
      for (;;) {
        const e = await sub.queue.next();
        if (e === undefined) return;
        if (typeof e === 'number') {
          sub.progress.report(e);
          continue;
        }
        if (e.kv.modRevision > after) yield e;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#subs.delete(sub);
      sub.queue.end();
    }
  }

  #start(fromRevision: number): Promise<void> {
    this.#started ??= this.#open(fromRevision).catch((err: unknown) => {
      this.#started = undefined;
      throw err;
    });
    return this.#started;
  }

  /**
   * Starts the shared watch where the first watcher wants it, so that a burst
   * of watchers from one list revision needs no gap replays; but from now if
   * that revision is compacted or in the future.
   */
  async #open(wanted: number): Promise<void> {
    const current = await this.#currentRevision();
    const usable = wanted >= 0 && wanted < current && !(await this.#deps.isCompacted(wanted + 1));
    const from = usable ? wanted : current;
    this.#known = from;
    const stop = new AbortController();
    this.#stop = stop;
    // The shared watch's own buffer only bridges the pump's microtask hops.
    const events = watchEtcd(
      this.#client,
      { prefix: '', fromRevision: from, signal: stop.signal },
      {
        ...this.#deps,
        capacity: 1_000_000,
      },
    );
    void this.#pump(events, stop);
  }

  async #pump(events: AsyncIterable<WatchEvent>, stop: AbortController): Promise<void> {
    let failure: unknown;
    try {
      for await (const e of events) {
        this.#known = e.kv.modRevision;
        for (const sub of this.#subs) {
          if (!e.kv.key.startsWith(sub.prefix)) {
            if (sub.progress.isWanted) sub.queue.pushProgress(e.kv.modRevision);
          } else if (!sub.queue.push([e])) this.#subs.delete(sub);
        }
      }
    } catch (err) {
      failure = err;
    }
    if (stop.signal.aborted) return;
    // The shared watch broke (etcd went away): end every watcher with the
    // error so callers re-watch, and start afresh on the next watch.
    const err = failure ?? new UnavailableError('watching: the etcd watch ended');
    for (const sub of this.#subs) sub.queue.fail(err);
    this.#subs.clear();
    this.#started = undefined;
  }
}
