import type { Client, Informer } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { ForbiddenError, NotFoundError } from '../lib/errors.ts';
import type { EndpointSlice, Plan } from './endpoint-slice-plan.ts';
import { SliceTracker } from './endpoint-slice-tracker.ts';

/**
 * Writes a Service's EndpointSlices (for the endpointslice and the mirroring
 * controllers) and remembers the writes, so that the cache echoing them back
 * queues nothing while anyone else's change to a slice does.
 */
export class SliceWriter {
  readonly #client: Client;
  readonly #tracker = new SliceTracker();

  constructor(client: Client) {
    this.#client = client;
  }

  /** Queues the Services (`keysOf`) of slices changed by anyone but us. */
  follow(
    slices: Informer<EndpointSlice>,
    keysOf: (s: EndpointSlice) => string[],
    enqueue: (key: string) => void,
  ): void {
    const changed = (s: EndpointSlice, deleted = false) => {
      for (const k of keysOf(s)) {
        const own = this.#tracker.isOwn(k, s, deleted);
        if (deleted) this.#tracker.observeDelete(k, s.metadata.name ?? '');
        if (!own) enqueue(k);
      }
    };
    slices.addHandler({
      onAdd: (s) => changed(s),
      onUpdate: (_, s) => changed(s),
      onDelete: (s) => changed(s, true),
    });
  }

  /** The Service's slices: the cache's, overlaid with our writes it does not show yet. */
  existing(key: string, cached: readonly EndpointSlice[]): EndpointSlice[] {
    return this.#tracker.view(key, cached);
  }

  forget(key: string): void {
    this.#tracker.forget(key);
  }

  /**
   * Creates and updates before deletes, so an endpoint moving between slices
   * is never absent. False when the namespace is being deleted (its slices go with it).
   */
  async apply(key: string, plan: Plan): Promise<boolean> {
    for (const s of plan.create) {
      try {
        this.#tracker.wrote(key, await this.#client.create(resources.endpointSlices, s));
      } catch (err) {
        if (err instanceof ForbiddenError) return false;
        throw err;
      }
    }
    for (const s of plan.update)
      this.#tracker.wrote(key, await this.#client.update(resources.endpointSlices, s));
    for (const s of plan.delete) await this.remove(key, s);
    return true;
  }

  async remove(key: string, s: EndpointSlice): Promise<void> {
    try {
      await this.#client.delete(resources.endpointSlices, s.metadata.name ?? '', {
        namespace: s.metadata.namespace,
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.#tracker.deleted(key, s);
  }
}
