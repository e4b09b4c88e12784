import type { Clock } from '../client/index.ts';

/** Expectations older than this are treated as met (a watch event may have been lost). */
const ttlMs = 5 * 60_000;

interface Expectation {
  adds: number;
  deletes: Set<string>;
  at: number;
}

/**
 * Upstream's ControllerExpectations: what a controller has asked for and not
 * yet seen in its cache. While creations or deletions are outstanding the
 * controller does not act again on stale counts (no double creates).
 */
export class Expectations {
  readonly #clock: Clock;
  readonly #byKey = new Map<string, Expectation>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  satisfied(key: string): boolean {
    const e = this.#byKey.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.#clock.now() - e.at > ttlMs;
  }

  expectCreations(key: string, n: number): void {
    this.#byKey.set(key, { adds: n, deletes: new Set(), at: this.#clock.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.#byKey.set(key, { adds: 0, deletes: new Set(podKeys), at: this.#clock.now() });
  }

  creationObserved(key: string): void {
    const e = this.#byKey.get(key);
    if (e) e.adds--;
  }

  deletionObserved(key: string, podKey: string): void {
    this.#byKey.get(key)?.deletes.delete(podKey);
  }

  forget(key: string): void {
    this.#byKey.delete(key);
  }
}
