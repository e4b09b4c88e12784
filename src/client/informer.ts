import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Client } from './client.ts';
import { keyOf } from './client.ts';
import type { Clock } from './clock.ts';
import { realClock, sleep } from './clock.ts';
import { GoneError } from './errors.ts';
import type { IndexFunc } from './store.ts';
import { Store } from './store.ts';
import type { KubeObject, Resource } from './types.ts';
import { resourceKey } from './types.ts';

/**
 * Callbacks for cache changes. They run synchronously in the informer's loop,
 * after the cache is updated, so they must be quick: compute a key and enqueue
 * it. Objects are the cache's own (frozen): copy before modifying.
 */
export interface EventHandler<T> {
  onAdd?(obj: T): void;
  /** Also called with old === new on every resync period. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** The last state the informer saw (after a re-list, possibly not the final one). */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Replays every cached object to onUpdate this often (0/undefined: never). */
  resyncMs?: number;
  /** Extra indexes beyond `namespace`. */
  indexers?: Record<string, IndexFunc<T>>;
  /** List page size (default 500). */
  pageSize?: number;
  clock?: Clock;
  log?: Logger;
  /** Back-off after a failed list or watch: initial and maximum (default 500 ms → 30 s). */
  backoffMs?: { initial: number; max: number };
  /**
   * Applied to every object before it is cached or handed to handlers, e.g.
   * `stripManagedFields` to save memory. Must return an object with the same key.
   */
  transform?: (obj: T) => T;
}

/** Drops `metadata.managedFields`, which caches never need and which can double an object's size. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata.managedFields) delete obj.metadata.managedFields;
  return obj;
}

/**
 * Keeps a local cache of one resource (per namespace and selectors) in step
 * with the server: list, then watch from the list's resourceVersion. A watch
 * that ends is resumed from the last seen resourceVersion (after a back-off if
 * it ended at once without events); a failed one is
 * retried with exponential back-off; GoneError (410, compacted history) makes
 * it list again, and the differences to the cache are delivered as add,
 * update and delete events. Shared: one informer serves many handlers.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly store: Store<T>;
  readonly resource: Resource;
  readonly #client: Client;
  readonly #opts: InformerOptions<T>;
  readonly #clock: Clock;
  readonly #handlers = new Set<EventHandler<T>>();
  readonly #syncWaiters = new Set<(ok: boolean) => void>();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  #synced = false;
  #lastRv = '';
  #lists = 0;

  constructor(client: Client, resource: Resource, opts: InformerOptions<T> = {}) {
    this.#client = client;
    this.resource = resource;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.store = new Store<T>(opts.indexers ?? {});
  }

  /**
   * Registers handlers; returns a function that removes them. Handlers added
   * after objects are cached get an onAdd for each of them first.
   */
  addHandler(h: EventHandler<T>): () => void {
    this.#handlers.add(h);
    for (const obj of this.store.list()) this.#call(() => h.onAdd?.(obj));
    return () => this.#handlers.delete(h);
  }

  /** Starts the list/watch loop (idempotent). It runs until `stop()` or `signal` aborts. */
  start(signal?: AbortSignal): void {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    this.#running = this.#run(abort.signal);
    if (this.#opts.resyncMs) this.#scheduleResync(abort.signal, this.#opts.resyncMs);
  }

  /** Stops the loop and resolves when it has ended; waitForSync callers get false. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    for (const w of this.#syncWaiters) w(false);
    this.#syncWaiters.clear();
    await this.#running;
  }

  /** Whether the first list has been delivered to the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced; false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.#syncWaiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = () => done(false);
      this.#syncWaiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The resourceVersion of the last list or event applied. */
  get lastSyncResourceVersion(): string {
    return this.#lastRv;
  }

  /** How many full lists the informer has made (1 + re-lists); for tests and metrics. */
  get listCount(): number {
    return this.#lists;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { initial, max } = this.#opts.backoffMs ?? { initial: 500, max: 30_000 };
    let delay = initial;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          needList = false;
        }
        const began = this.#clock.now();
        const events = await this.#watch(signal);
        if (events === 0 && this.#clock.now() - began < 1000 && !signal.aborted) {
          // A server that ends watches at once must not turn this loop into a busy loop.
          await sleep(this.#clock, delay, signal);
          delay = Math.min(max, delay * 2);
        } else delay = initial;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GoneError) {
          this.#opts.log?.debug({ resource: resourceKey(this.resource) }, 'watch expired; listing again');
          needList = true;
          continue;
        }
        this.#opts.log?.warn(
          { resource: resourceKey(this.resource), err: describeError(err), retryMs: delay },
          'list/watch failed',
        );
        await sleep(this.#clock, delay, signal);
        delay = Math.min(max, delay * 2);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#client.list<T>(this.resource, {
        namespace: this.#opts.namespace,
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
        limit: this.#opts.pageSize ?? 500,
        continue: cont,
        signal,
      });
      const t = this.#opts.transform;
      for (const item of page.items) items.push(t ? t(item) : item);
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    this.#lists++;
    this.#replace(items);
    this.#lastRv = rv;
    if (!this.#synced) {
      this.#synced = true;
      for (const w of [...this.#syncWaiters]) w(true);
    }
  }

  /** Applies a full list: the differences to the cache become events. */
  #replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(keyOf(obj));
      this.#apply('MODIFIED', obj);
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const old = this.store.delete(key);
      if (old) this.#emit((h) => h.onDelete?.(old));
    }
  }

  /** Follows one watch until it ends; returns how many events it carried. */
  async #watch(signal: AbortSignal): Promise<number> {
    const events = this.#client.watch<T>(this.resource, {
      namespace: this.#opts.namespace,
      labelSelector: this.#opts.labelSelector,
      fieldSelector: this.#opts.fieldSelector,
      resourceVersion: this.#lastRv,
      allowWatchBookmarks: true,
      // Like client-go, end watches after 5-10 minutes so load spreads across servers.
      timeoutSeconds: 300 + Math.floor(Math.random() * 300),
      signal,
    });
    let n = 0;
    for await (const ev of events) {
      n++;
      const rv = ev.object.metadata.resourceVersion;
      if (ev.type !== 'BOOKMARK') this.#apply(ev.type, this.#opts.transform?.(ev.object) ?? ev.object);
      if (rv) this.#lastRv = rv;
    }
    return n;
  }

  #apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    if (type === 'DELETED') {
      const old = this.store.delete(keyOf(obj));
      if (old) this.#emit((h) => h.onDelete?.(obj));
      return;
    }
    const prev = this.store.get(keyOf(obj));
    // A re-list or a replayed event may carry what the cache already has.
    if (prev && prev.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.store.set(obj);
    if (prev) this.#emit((h) => h.onUpdate?.(prev, obj));
    else this.#emit((h) => h.onAdd?.(obj));
  }

  #scheduleResync(signal: AbortSignal, every: number): void {
    const cancel = this.#clock.after(every, () => {
      if (signal.aborted) return;
      for (const obj of this.store.list()) this.#emit((h) => h.onUpdate?.(obj, obj));
      this.#scheduleResync(signal, every);
    });
    signal.addEventListener('abort', cancel, { once: true });
  }

  #emit(fn: (h: EventHandler<T>) => void): void {
    for (const h of this.#handlers) this.#call(() => fn(h));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#opts.log?.error(
        { resource: resourceKey(this.resource), err: describeError(err) },
        'informer handler threw',
      );
    }
  }
}
