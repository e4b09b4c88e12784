import type { ResourceType } from '../api/resource.ts';
import { isObject, type KubeObject } from '../api/types.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { ObjectStore } from './object-store.ts';
import type { TypeRegistry } from './type-registry.ts';

/**
 * Empties terminating namespaces and then removes them (the namespace
 * controller's job; it runs inside the server until the controllers part
 * takes it over). Deletes every namespaced object, waits for finalizers and
 * graceful pod deletion, then deletes the Namespace when nothing is left.
 */
export class NamespaceFinalizer {
  readonly #objects: ObjectStore;
  readonly #types: TypeRegistry;
  readonly #nsType: ResourceType;
  readonly #log: Logger;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(objects: ObjectStore, types: TypeRegistry, nsType: ResourceType, log: Logger) {
    this.#objects = objects;
    this.#types = types;
    this.#nsType = nsType;
    this.#log = log;
  }

  async start(signal: AbortSignal): Promise<void> {
    const prefix = this.#objects.prefix(this.#nsType);
    const page = await this.#objects.store.list({ prefix });
    for (const kv of page.items) this.#observe(this.#objects.decode(kv));
    signal.addEventListener('abort', () => clearTimeout(this.#timer));
    void (async () => {
      try {
        for await (const ev of this.#objects.store.watch({ prefix, fromRevision: page.revision, signal })) {
          if (ev.type === 'put') this.#observe(this.#objects.decode(ev.kv));
        }
      } catch (err) {
        if (!signal.aborted) this.#log.warn({ err }, 'namespace watch ended');
      }
    })();
  }

  #observe(ns: KubeObject): void {
    const terminating =
      ns.metadata.deletionTimestamp || (isObject(ns.status) && ns.status.phase === 'Terminating');
    if (!terminating || !ns.metadata.name) return;
    this.#pending.add(ns.metadata.name);
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, ms);
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (const name of [...this.#pending]) {
        if (await this.#finalize(name)) this.#pending.delete(name);
      }
    } catch (err) {
      this.#log.warn({ err }, 'finalizing namespaces');
    } finally {
      this.#running = false;
      if (this.#pending.size > 0) this.#schedule(500);
    }
  }

  /** True when the namespace is gone. */
  async #finalize(name: string): Promise<boolean> {
    let left = 0;
    for (const type of this.#types.all()) {
      if (!type.namespaced || type.createOnly) continue;
      const page = await this.#objects.store.list({ prefix: this.#objects.prefix(type, name) });
      for (const kv of page.items) {
        left++;
        const obj = this.#objects.decode(kv);
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.#objects.delete(type, name, obj.metadata.name ?? '', {});
        } catch (err) {
          if (!(err instanceof NotFoundError || err instanceof ConflictError)) throw err;
        }
      }
    }
    if (left > 0) return false;
    const kv = await this.#objects.store.get(this.#objects.key(this.#nsType, undefined, name));
    if (!kv) return true;
    try {
      await this.#objects.store.delete(kv.key, kv.modRevision);
      this.#log.debug({ namespace: name }, 'namespace finalized');
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return true;
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }
}
