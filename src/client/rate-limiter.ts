import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';

/** How long an item waits before it is retried; the workqueue asks on every failure. */
export interface RateLimiter<T = string> {
  /** Delay in ms before `item` may run again; counts as one more failure. */
  when(item: T): number;
  /** Clears `item`'s failure history (call after a success). */
  forget(item: T): void;
  /** Failures recorded for `item` since the last forget. */
  numRequeues(item: T): number;
}

/** Per-item exponential back-off: base·2^failures, capped (client-go: 5 ms → 1000 s). */
export class ExponentialRateLimiter<T = string> implements RateLimiter<T> {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<T, number>();

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(item: T): number {
    const n = this.#failures.get(item) ?? 0;
    this.#failures.set(item, n + 1);
    return Math.min(this.#maxMs, this.#baseMs * 2 ** n);
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** An overall token bucket (client-go: 10 qps, burst 100): bounds retries across all items. */
export class BucketRateLimiter<T = string> implements RateLimiter<T> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(opts: { qps?: number; burst?: number; clock?: Clock } = {}) {
    this.#qps = opts.qps ?? 10;
    this.#burst = opts.burst ?? 100;
    this.#clock = opts.clock ?? realClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  when(_item: T): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay any of its limiters asks for (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter<T = string> implements RateLimiter<T> {
  readonly #limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: per-item 5 ms → 1000 s, overall 10 qps burst 100. */
export function defaultControllerRateLimiter<T = string>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ExponentialRateLimiter<T>(5, 1_000_000),
    new BucketRateLimiter<T>({ clock }),
  );
}
