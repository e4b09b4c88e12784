import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { defaultControllerRateLimiter } from './rate-limiter.ts';

export interface WorkqueueOptions<T> {
  rateLimiter?: RateLimiter<T>;
  clock?: Clock;
}

/**
 * A rate-limited work queue with client-go's guarantees:
 * - an item is queued at most once however often it is added;
 * - an item is handed to at most one worker at a time: added while being
 *   processed, it is queued again when that worker calls `done`;
 * - `addAfter` keeps only the earliest pending time per item;
 * - after `shutDown`, `get` hands out what is queued and then resolves undefined.
 * Every `get` must be matched by a `done`.
 */
export class Workqueue<T = string> {
  // FIFO as an array plus a head index: Array#shift is O(n) on large queues.
  #queue: T[] = [];
  #head = 0;
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  readonly #waiting = new Map<T, { at: number; cancel: () => void }>();
  readonly #getters: ((item: T | undefined) => void)[] = [];
  readonly #limiter: RateLimiter<T>;
  readonly #clock: Clock;
  #shuttingDown = false;

  constructor(opts: WorkqueueOptions<T> = {}) {
    this.#clock = opts.clock ?? realClock;
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.#clock);
  }

  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#dirty.add(item);
    if (this.#processing.has(item)) return;
    this.#hand(item);
  }

  /** Adds `item` after `ms` (at once when ms <= 0). */
  addAfter(item: T, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(item);
      return;
    }
    const at = this.#clock.now() + ms;
    const prev = this.#waiting.get(item);
    if (prev && prev.at <= at) return;
    prev?.cancel();
    const cancel = this.#clock.after(ms, () => {
      this.#waiting.delete(item);
      this.add(item);
    });
    this.#waiting.set(item, { at, cancel });
  }

  /** Adds `item` after the rate limiter's delay; counts as a failure of the item. */
  addRateLimited(item: T): void {
    this.addAfter(item, this.#limiter.when(item));
  }

  /** Clears `item`'s back-off (after it was processed successfully). */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }

  /** The next item, waiting for one; undefined once shut down and drained. */
  get(): Promise<T | undefined> {
    const item = this.#pop();
    if (item !== undefined) return Promise.resolve(this.#take(item));
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks `item` processed; if it was added meanwhile it is queued again. */
  done(item: T): void {
    this.#processing.delete(item);
    if (this.#dirty.has(item)) this.#hand(item);
  }

  /** Stops accepting items, cancels pending addAfter timers, releases idle getters. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const w of this.#waiting.values()) w.cancel();
    this.#waiting.clear();
    for (const g of this.#getters.splice(0)) g(undefined);
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Items ready to be handed out (not counting processing or waiting ones). */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  #pop(): T | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const item = this.#queue[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #hand(item: T): void {
    const getter = this.#getters.shift();
    if (getter) getter(this.#take(item));
    else this.#queue.push(item);
  }

  #take(item: T): T {
    this.#dirty.delete(item);
    this.#processing.add(item);
    return item;
  }
}

export interface RunWorkersOptions {
  /** Aborting shuts the queue down; workers finish their current item. */
  signal?: AbortSignal;
  log?: Logger;
}

/**
 * Runs `n` workers that take keys from `queue` and call `reconcile(key)`.
 * Success forgets the key's back-off; an error (or rejection) re-adds it rate
 * limited. Resolves when the queue is shut down and every worker has stopped.
 */
export async function runWorkers<T>(
  queue: Workqueue<T>,
  n: number,
  reconcile: (key: T) => Promise<void>,
  opts: RunWorkersOptions = {},
): Promise<void> {
  const onAbort = () => queue.shutDown();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) queue.shutDown();
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (err) {
        opts.log?.debug(
          { key, err: describeError(err), requeues: queue.numRequeues(key) },
          'reconcile failed',
        );
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
