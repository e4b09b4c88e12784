import type { EngineEvent, Filters } from './types.ts';

type Listener = (event: EngineEvent) => void;

/**
 * The engine's event bus: every state change (create, start, die, destroy,
 * tag, connect, mount ...) is published here. It keeps a bounded history so
 * `events --since` can replay, and hands live events to subscribers.
 */
export class EventBus {
  readonly #history: EngineEvent[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #capacity: number;
  #lastMs = 0;
  #seq = 0;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
  }

  publish(
    type: EngineEvent['Type'],
    action: string,
    id: string,
    attributes: Record<string, string> = {},
  ): void {
    // Wall-clock milliseconds, made unique and increasing with a counter in the nanoseconds.
    const ms = Date.now();
    this.#seq = ms === this.#lastMs ? this.#seq + 1 : 0;
    this.#lastMs = ms;
    const nowNs = BigInt(ms) * 1_000_000n + BigInt(this.#seq);
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = id;
      if (attributes.image) event.from = attributes.image;
    }
    this.#history.push(event);
    if (this.#history.length > this.#capacity) this.#history.shift();
    for (const listener of this.#listeners) listener(event);
  }

  /**
   * Past events at or after `since` (unix seconds), then live ones, until the
   * signal aborts or an event's time passes `until`.
   */
  async *stream(opts: {
    since?: number;
    until?: number;
    filters?: Filters;
    signal?: AbortSignal;
  }): AsyncGenerator<EngineEvent> {
    const matches = compileFilters(opts.filters ?? {});
    const queue: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (e: EngineEvent) => {
      queue.push(e);
      wake?.();
    };
    // Subscribe and snapshot the history in one step: nothing published in
    // between is lost, and nothing is delivered twice.
    this.#listeners.add(listener);
    const past = opts.since !== undefined ? [...this.#history] : [];
    const onAbort = () => wake?.();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      if (opts.since !== undefined) {
        for (const e of past) {
          if (e.timeNano < opts.since * 1e9) continue;
          if (opts.until !== undefined && e.timeNano > opts.until * 1e9) return;
          if (matches(e)) yield e;
        }
      }
      while (!opts.signal?.aborted) {
        const e = queue.shift();
        if (e) {
          if (opts.until !== undefined && e.timeNano > opts.until * 1e9) return;
          if (matches(e)) yield e;
          continue;
        }
        const leftMs = opts.until === undefined ? undefined : opts.until * 1000 - Date.now();
        if (leftMs !== undefined && leftMs <= 0) return;
        // Each wait arms its own deadline timer (one armed once could fire while
        // nobody waits, or a hair early, and the stream would never end).
        await new Promise<void>((resolve) => {
          const timer = leftMs === undefined ? undefined : setTimeout(resolve, Math.ceil(leftMs) + 1);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      this.#listeners.delete(listener);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Docker's event filters: type, event, container, image, network, volume, label. */
export function compileFilters(filters: Filters): (e: EngineEvent) => boolean {
  const checks: ((e: EngineEvent) => boolean)[] = [];
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    switch (key) {
      case 'type':
        checks.push((e) => values.includes(e.Type));
        break;
      case 'event':
      case 'action':
        checks.push((e) => values.some((v) => e.Action === v || e.Action.startsWith(`${v}:`)));
        break;
      case 'container':
      case 'image':
      case 'network':
      case 'volume':
        checks.push(
          (e) =>
            (e.Type === key || (key === 'image' && e.Type === 'container')) &&
            values.some(
              (v) =>
                e.Actor.ID === v ||
                e.Actor.ID.startsWith(v) ||
                e.Actor.Attributes.name === v ||
                (key === 'image' && e.Actor.Attributes.image === v),
            ),
        );
        break;
      case 'label':
        checks.push((e) =>
          values.every((v) => {
            const [k, val] = splitOnce(v, '=');
            return val === undefined ? k in e.Actor.Attributes : e.Actor.Attributes[k] === val;
          }),
        );
        break;
      default:
        break;
    }
  }
  return (e) => checks.every((check) => check(e));
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
