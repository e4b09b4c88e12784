import type { Logger } from '../lib/logger.ts';
import type { Store } from './store.ts';

export interface CompactorOptions {
  /** Time between compactions (default 5 minutes, as the Kubernetes apiserver does for etcd). */
  intervalMs?: number;
  /** Always keep at least this many of the newest revisions (default 1000, as kine does). */
  retainRevisions?: number;
  log?: Logger;
}

/**
 * Automatic compaction for any Store. Each tick compacts to the revision the
 * previous tick saw, but never into the newest `retainRevisions`; so history
 * stays available for at least one interval and at least that many writes,
 * which is what watchers resuming after a short disconnect need. Servers
 * sharing one etcd may all run one: compacting at or below the compaction
 * point is a no-op.
 */
export class Compactor {
  readonly #store: Store;
  readonly #intervalMs: number;
  readonly #retain: number;
  readonly #log: Logger | undefined;
  #previous: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(store: Store, options: CompactorOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.intervalMs ?? 5 * 60_000;
    this.#retain = options.retainRevisions ?? 1000;
    this.#log = options.log;
  }

  /** Starts ticking every interval; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.tick()
        .catch((err: unknown) => this.#log?.warn({ err }, 'compaction failed'))
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops ticking and waits for a compaction in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One round; returns the revision compacted to, or undefined when there was nothing to do. */
  async tick(): Promise<number | undefined> {
    const current = await this.#store.currentRevision();
    const previous = this.#previous;
    this.#previous = current;
    if (previous === undefined) return undefined;
    const target = Math.min(previous, current - this.#retain);
    if (target <= 0) return undefined;
    await this.#store.compact(target);
    this.#log?.debug({ revision: target, current }, 'compacted');
    return target;
  }
}
