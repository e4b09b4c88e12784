import { UnavailableError } from '../lib/errors.ts';
import { EventQueue } from './event-queue.ts';
import { Progress } from './progress.ts';
import { CompactedError, type WatchEvent, type WatchOptions } from './store.ts';

/** Read access to a local backend's revision log, as the watch replay needs it. */
export interface EventLog {
  compactRevision(): number;
  currentRevision(): number;
  /**
   * Events for keys under `prefix` with `after < modRevision <= upTo`, in
   * revision order, at most `limit`. Throws CompactedError if that history is gone.
   */
  history(prefix: string, after: number, upTo: number, limit: number): WatchEvent[];
}

interface Subscription {
  prefix: string;
  queue: EventQueue;
  progress: Progress;
}

const replayPage = 500;

/**
 * The in-process fan-out for backends with a single writer (memory, SQLite):
 * the store publishes each batch of committed events, synchronously right after
 * the commit, and every watcher gets those under its prefix in its own bounded
 * queue. A watch first replays history from the log up to the revision current
 * when it subscribed, then drains its queue; because subscribing and reading
 * that revision happen in one synchronous step, and commit plus publish happen
 * in another, no event is missed or delivered twice.
 */
export class EventBus {
  readonly #log: EventLog;
  readonly #capacity: number;
  readonly #subs = new Set<Subscription>();
  #closed = false;

  constructor(log: EventLog, options: { capacity?: number } = {}) {
    this.#log = log;
    this.#capacity = options.capacity ?? 10_000;
  }

  /** Hands committed events (in revision order) to the watchers whose prefix they match. */
  publish(events: readonly WatchEvent[]): void {
    const last = events.at(-1);
    if (last === undefined) return;
    for (const sub of this.#subs) {
      const mine = sub.prefix === '' ? events : events.filter((e) => e.kv.key.startsWith(sub.prefix));
      if (mine.length === 0) {
        if (sub.progress.isWanted) sub.queue.pushProgress(last.kv.modRevision);
      } else if (!sub.queue.push(mine)) this.#subs.delete(sub);
    }
  }

  /** Number of live watchers (for metrics and tests). */
  get size(): number {
    return this.#subs.size;
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    return { [Symbol.asyncIterator]: () => this.#run(options) };
  }

  /** Ends every watch normally and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const sub of this.#subs) sub.queue.end();
    this.#subs.clear();
  }

  async *#run(options: WatchOptions): AsyncGenerator<WatchEvent> {
    const { prefix, fromRevision, signal } = options;
    if (signal?.aborted) return;
    if (this.#closed) throw new UnavailableError('watching: the store is closed');
    const compacted = this.#log.compactRevision();
    if (fromRevision + 1 < compacted) {
      throw new CompactedError(
        `watching ${prefix} from revision ${fromRevision}: compacted up to ${compacted}`,
        compacted,
      );
    }
    const sub: Subscription = {
      prefix,
      queue: new EventQueue(this.#capacity),
      progress: new Progress(options.onProgress, fromRevision),
    };
    this.#subs.add(sub);
    const liveStart = this.#log.currentRevision();
    const onAbort = (): void => sub.queue.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let after = fromRevision;
      while (after < liveStart) {
        if (sub.queue.isEnded) break;
        const page = this.#log.history(prefix, after, liveStart, replayPage);
        for (const e of page) yield e;
        const last = page.at(-1);
        if (page.length < replayPage || last === undefined) break;
        after = last.kv.modRevision;
      }
      // Caught up with the revision current at subscription time.
      sub.progress.report(liveStart);
      for (;;) {
        const e = await sub.queue.next();
        if (e === undefined) return;
        if (typeof e === 'number') {
          sub.progress.report(e);
          continue;
        }
        if (e.kv.modRevision > fromRevision) yield e;
      }
    } finally {
      this.#subs.delete(sub);
      signal?.removeEventListener('abort', onAbort);
      sub.queue.end();
    }
  }
}
