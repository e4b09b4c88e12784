/**
 * A bounded cache whose entries expire after their own TTL: forwarded
 * answers live as long as their records say (RFC 1035 §7.4, negative
 * answers per RFC 2308). Oldest entries go first when it is full.
 */
export interface TtlCacheOptions {
  maxEntries?: number;
  /** Milliseconds clock (tests pass a fake). */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
  expiresAt: number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(o: TtlCacheOptions = {}) {
    this.#max = o.maxEntries ?? 10_000;
    this.#now = o.now ?? Date.now;
  }

  /** The value under `key` and how many whole seconds it has been cached, unless expired. */
  get(key: string): { value: V; ageSeconds: number } | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    const now = this.#now();
    if (now >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: e.value, ageSeconds: Math.floor((now - e.storedAt) / 1000) };
  }

  /** Stores `value` for `ttlSeconds` (0 or less: not at all). */
  set(key: string, value: V, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    const now = this.#now();
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, storedAt: now, expiresAt: now + ttlSeconds * 1000 });
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
