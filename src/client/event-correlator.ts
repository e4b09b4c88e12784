import type { Event } from './objects.ts';

/** client-go's defaults (tools/record/events_cache.go). */
export const correlatorDefaults = {
  /** Similar events (same object and reason, other messages) before they are combined. */
  maxSimilar: 10,
  /** How long similar events are remembered for combining. */
  similarWindowMs: 10 * 60_000,
  /** Token bucket per source + object: burst, then one event per 5 minutes. */
  spamBurst: 25,
  spamQps: 1 / 300,
  /** Distinct keys each cache remembers (least recently used forgotten first). */
  cacheSize: 4096,
};

export type CorrelatorOptions = Partial<typeof correlatorDefaults>;

/** What to do with an event: drop it (rate limited), or write it under `key` (same key: bump the count). */
export type Correlation = { skip: true } | { skip: false; event: Event; key: string };

/** A Map used as an LRU cache: reads move a key to the young end; past `size` the oldest go. */
class Lru<V> {
  readonly #size: number;
  readonly #map = new Map<string, V>();

  constructor(size: number) {
    this.#size = size;
  }

  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, v: V): void {
    this.#map.delete(key);
    this.#map.set(key, v);
    while (this.#map.size > this.#size) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }
}

const objectKey = (e: Event) => {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion];
};

/**
 * client-go's EventCorrelator without the I/O: a token bucket per source and
 * object drops floods (burst 25, then one per 5 minutes); more than 10
 * events for the same object and reason with different messages within 10
 * minutes are combined into one "(combined from similar events): ..." event;
 * identical events share a key so the recorder bumps one Event's count.
 */
export class EventCorrelator {
  readonly #o: typeof correlatorDefaults;
  readonly #now: () => number;
  readonly #buckets: Lru<{ tokens: number; at: number }>;
  readonly #similar: Lru<{ messages: Set<string>; at: number }>;

  constructor(now: () => number, opts: CorrelatorOptions = {}) {
    this.#o = { ...correlatorDefaults, ...opts };
    this.#now = now;
    this.#buckets = new Lru(this.#o.cacheSize);
    this.#similar = new Lru(this.#o.cacheSize);
  }

  correlate(event: Event): Correlation {
    const now = this.#now();
    if (!this.#allow(JSON.stringify(objectKey(event)), now)) return { skip: true };
    const aggregateKey = JSON.stringify([...objectKey(event), event.type, event.reason]);
    let seen = this.#similar.get(aggregateKey);
    if (!seen || now - seen.at > this.#o.similarWindowMs) seen = { messages: new Set(), at: now };
    seen.messages.add(event.message ?? '');
    seen.at = now;
    this.#similar.set(aggregateKey, seen);
    if (seen.messages.size < this.#o.maxSimilar)
      return { skip: false, event, key: JSON.stringify([aggregateKey, event.message]) };
    const combined = { ...event, message: `(combined from similar events): ${event.message ?? ''}` };
    return { skip: false, event: combined, key: aggregateKey };
  }

  #allow(key: string, now: number): boolean {
    const b = this.#buckets.get(key) ?? { tokens: this.#o.spamBurst, at: now };
    b.tokens = Math.min(this.#o.spamBurst, b.tokens + ((now - b.at) / 1000) * this.#o.spamQps);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.#buckets.set(key, b);
    return ok;
  }
}
