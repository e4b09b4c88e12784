import type { Logger } from '../lib/logger.ts';
import type { Client } from './client.ts';
import type { Clock } from './clock.ts';
import { Informer, stripManagedFields } from './informer.ts';
import type { IndexFunc } from './store.ts';
import type { KubeObject, Resource } from './types.ts';
import { resourceKey } from './types.ts';

export interface InformerScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerFactoryOptions {
  /** Default resync period for informers the factory makes (0: none). */
  resyncMs?: number;
  clock?: Clock;
  log?: Logger;
  /** Keep `metadata.managedFields` in cached objects (default false: they are stripped). */
  keepManagedFields?: boolean;
}

/**
 * Hands out one shared Informer per resource + namespace + selectors, so every
 * controller in a process watching pods shares one watch and one cache.
 * Informers asked for after `start` are started at once.
 */
export class InformerFactory {
  readonly #client: Client;
  readonly #opts: InformerFactoryOptions;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  #signal: AbortSignal | undefined;
  #started = false;

  constructor(client: Client, opts: InformerFactoryOptions = {}) {
    this.#client = client;
    this.#opts = opts;
  }

  /**
   * The shared informer for `resource` in `scope`. `indexers` are added to the
   * informer's store on first use by each caller (names must not clash).
   */
  informerFor<T extends KubeObject = KubeObject>(
    resource: Resource,
    scope: InformerScope = {},
    indexers?: Record<string, IndexFunc<T>>,
  ): Informer<T> {
    const key = [
      resourceKey(resource),
      scope.namespace ?? '',
      scope.labelSelector ?? '',
      scope.fieldSelector ?? '',
    ].join('|');
    let inf = this.#informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      const { keepManagedFields, ...rest } = this.#opts;
      inf = new Informer<T>(this.#client, resource, {
        ...scope,
        ...rest,
        ...(keepManagedFields ? {} : { transform: stripManagedFields }),
      });
      this.#informers.set(key, inf as unknown as Informer<KubeObject>);
      if (this.#started) inf.start(this.#signal);
    }
    if (indexers) inf.store.addIndexers(indexers);
    return inf;
  }

  /** Starts every informer made so far and any made later; `signal` stops them all. */
  start(signal?: AbortSignal): void {
    this.#started = true;
    this.#signal = signal;
    for (const inf of this.#informers.values()) inf.start(signal);
  }

  /** Resolves true once every informer made so far has synced; false if `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }
}
