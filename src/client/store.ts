import { keyOf } from './client.ts';
import type { KubeObject } from './types.ts';

/** Maps an object to the index values it is filed under (e.g. its node name). */
export type IndexFunc<T> = (obj: T) => string[];

/** Files objects by namespace; every Store has it under the name `namespace`. */
export const namespaceIndex: IndexFunc<KubeObject> = (o) => [o.metadata.namespace ?? ''];

/** Files pods by `spec.nodeName` (unbound pods under ''), the index the agent and scheduler use. */
export const nodeNameIndex: IndexFunc<KubeObject> = (o) => [
  String((o.spec as { nodeName?: string } | undefined)?.nodeName ?? ''),
];

/**
 * The informer's local cache: objects by key (`namespace/name` or `name`) and
 * by any number of named indexes.
 *
 * Objects from the cache are shared with every other reader and are frozen:
 * copy them (`structuredClone`) before you modify them. Only the informer that
 * owns a Store writes to it.
 */
export class Store<T extends KubeObject = KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers({ namespace: namespaceIndex, ...indexers });
  }

  /**
   * Adds indexes; existing objects are indexed at once. Adding the same function
   * under the same name again is a no-op; another function under a taken name throws.
   */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.#indexers.get(name);
      if (existing === fn) continue;
      if (existing) throw new Error(`adding indexer ${name}: another indexer has that name`);
      this.#indexers.set(name, fn);
      this.#indices.set(name, new Map());
      for (const [key, obj] of this.#items) this.#indexOne(name, fn, key, obj);
    }
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Objects filed under `value` in index `name` (e.g. `byIndex('namespace', 'default')`). */
  byIndex(name: string, value: string): T[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`reading index ${name}: no such indexer`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const o = this.#items.get(key);
      if (o) out.push(o);
    }
    return out;
  }

  /** Stores (freezing) `obj` and returns the object it replaced, if any. */
  set(obj: T): T | undefined {
    deepFreeze(obj);
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#indexOne(name, fn, key, obj);
    return old;
  }

  /** Removes the object under `key` and returns it, if any. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  #indexOne(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const index = this.#indices.get(name);
    if (!index) return;
    for (const v of fn(obj)) {
      let keys = index.get(v);
      if (!keys) {
        keys = new Set();
        index.set(v, keys);
      }
      keys.add(key);
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name);
      for (const v of fn(obj)) {
        const keys = index?.get(v);
        keys?.delete(key);
        if (keys?.size === 0) index?.delete(v);
      }
    }
  }
}

function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const child of Object.values(v)) deepFreeze(child);
}
