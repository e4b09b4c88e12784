import type { WatchEvent } from './store.ts';

/**
 * Test-side reading of a watch: `take(n)` waits (with a deadline) for the next
 * n events; `rest()` drains what arrives until the watch ends. Used by the
 * conformance suite and benchmarks; not part of the Store contract.
 */
export interface EventReader {
  take(n: number, timeoutMs?: number): Promise<WatchEvent[]>;
  rest(timeoutMs?: number): Promise<WatchEvent[]>;
  /** Stops the watch; only while no take() or rest() is waiting. */
  stop(): Promise<void>;
}

export function readEvents(watch: AsyncIterable<WatchEvent>): EventReader {
  const it = watch[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<WatchEvent>> | undefined;
  const next = async (timeoutMs: number, what: string): Promise<IteratorResult<WatchEvent>> => {
    pending ??= it.next();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`waiting for ${what}: no event within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const r = await Promise.race([pending, deadline]);
      pending = undefined;
      return r;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async take(n, timeoutMs = 10_000) {
      const out: WatchEvent[] = [];
      while (out.length < n) {
        const r = await next(timeoutMs, `event ${out.length + 1} of ${n}`);
        if (r.done) throw new Error(`watch ended after ${out.length} of ${n} events`);
        out.push(r.value);
      }
      return out;
    },
    async rest(timeoutMs = 10_000) {
      const out: WatchEvent[] = [];
      for (;;) {
        const r = await next(timeoutMs, 'the end of the watch');
        if (r.done) return out;
        out.push(r.value);
      }
    },
    async stop() {
      await it.return?.();
    },
  };
}

/** The first n events of a watch, then stops it. */
export async function collectEvents(
  watch: AsyncIterable<WatchEvent>,
  n: number,
  timeoutMs = 10_000,
): Promise<WatchEvent[]> {
  const reader = readEvents(watch);
  const events = await reader.take(n, timeoutMs);
  await reader.stop();
  return events;
}
