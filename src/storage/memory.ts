import {
  AlreadyExistsError,
  ConflictError,
  InvalidError,
  NotFoundError,
  UnavailableError,
} from '../lib/errors.ts';
import { EventBus, type EventLog } from './event-bus.ts';
import {
  CompactedError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchEvent,
  type WatchOptions,
} from './store.ts';

/**
 * A Store in process memory: nothing survives close. For unit tests of the
 * layers above storage and for development; it passes the same conformance
 * suite as the SQLite and etcd backends. Reads at an old revision undo the
 * event log backwards from the current state, so they cost O(events since).
 */
export class MemoryStore implements Store {
  readonly #current = new Map<string, KeyValue>();
  #sortedKeys: string[] | undefined;
  /** Every event with modRevision >= #compacted, in order. */
  #log: WatchEvent[] = [];
  #rev = 0;
  #compacted = 0;
  #closed = false;
  readonly #bus: EventBus;

  constructor(options: { watchCapacity?: number } = {}) {
    const log: EventLog = {
      compactRevision: () => this.#compacted,
      currentRevision: () => this.#rev,
      history: (prefix, after, upTo, limit) => this.#history(prefix, after, upTo, limit),
    };
    this.#bus = new EventBus(log, { capacity: options.watchCapacity });
  }

  async get(key: string, options: { revision?: number } = {}): Promise<KeyValue | undefined> {
    this.#checkOpen('reading');
    const rev = this.#readRevision(options.revision, `reading ${key}`);
    let kv = this.#current.get(key);
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const e = this.#log[i]!;
      if (e.kv.modRevision <= rev) break;
      if (e.kv.key === key) kv = e.prevKv;
    }
    return kv;
  }

  async list(options: ListOptions): Promise<ListResult> {
    this.#checkOpen('listing');
    const { prefix, limit, continueKey } = options;
    const rev = this.#readRevision(options.revision, `listing ${prefix}`);
    const state = new Map<string, KeyValue>();
    for (const k of this.#keys()) {
      if (k.startsWith(prefix)) state.set(k, this.#current.get(k)!);
    }
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const e = this.#log[i]!;
      if (e.kv.modRevision <= rev) break;
      if (!e.kv.key.startsWith(prefix)) continue;
      if (e.prevKv) state.set(e.kv.key, e.prevKv);
      else state.delete(e.kv.key);
    }
    const keys = [...state.keys()].filter((k) => continueKey === undefined || k > continueKey).sort();
    const n = limit !== undefined && limit > 0 ? Math.min(limit, keys.length) : keys.length;
    const items = keys.slice(0, n).map((k) => state.get(k)!);
    return { items, revision: rev, more: n < keys.length, remaining: keys.length - n };
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen('counting');
    let n = 0;
    for (const k of this.#current.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  async create(key: string, value: Uint8Array): Promise<KeyValue> {
    this.#checkOpen('creating');
    if (this.#current.has(key)) throw new AlreadyExistsError(`creating ${key}: already exists`);
    const rev = ++this.#rev;
    const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev, version: 1 };
    this.#current.set(key, kv);
    this.#sortedKeys = undefined;
    this.#commit({ type: 'put', kv });
    return kv;
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number): Promise<KeyValue> {
    this.#checkOpen('updating');
    const prev = this.#current.get(key);
    if (!prev) throw new NotFoundError(`updating ${key}: not found`);
    if (prev.modRevision !== expectedModRevision) {
      throw new ConflictError(
        `updating ${key}: modified at revision ${prev.modRevision}, expected ${expectedModRevision}`,
      );
    }
    const rev = ++this.#rev;
    const kv: KeyValue = { ...prev, value, modRevision: rev, version: prev.version + 1 };
    this.#current.set(key, kv);
    this.#commit({ type: 'put', kv, prevKv: prev });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.#checkOpen('deleting');
    const prev = this.#current.get(key);
    if (!prev) throw new NotFoundError(`deleting ${key}: not found`);
    if (expectedModRevision !== undefined && prev.modRevision !== expectedModRevision) {
      throw new ConflictError(
        `deleting ${key}: modified at revision ${prev.modRevision}, expected ${expectedModRevision}`,
      );
    }
    const rev = ++this.#rev;
    const kv: KeyValue = { ...prev, modRevision: rev };
    this.#current.delete(key);
    this.#sortedKeys = undefined;
    this.#commit({ type: 'delete', kv, prevKv: prev });
    return kv;
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    return this.#bus.watch(options);
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen('compacting');
    if (revision > this.#rev) {
      throw new InvalidError(`compacting at ${revision}: beyond the current revision ${this.#rev}`);
    }
    if (revision <= this.#compacted) return;
    this.#compacted = revision;
    const keep = this.#log.findIndex((e) => e.kv.modRevision >= revision);
    this.#log = keep < 0 ? [] : this.#log.slice(keep);
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen('reading the revision');
    return this.#rev;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#bus.close();
  }

  #commit(e: WatchEvent): void {
    this.#log.push(e);
    this.#bus.publish([e]);
  }

  #keys(): string[] {
    this.#sortedKeys ??= [...this.#current.keys()].sort();
    return this.#sortedKeys;
  }

  #readRevision(revision: number | undefined, what: string): number {
    if (revision === undefined || revision <= 0) return this.#rev;
    if (revision < this.#compacted) {
      throw new CompactedError(
        `${what} at revision ${revision}: compacted up to ${this.#compacted}`,
        this.#compacted,
      );
    }
    if (revision > this.#rev) {
      throw new InvalidError(`${what} at revision ${revision}: beyond the current revision ${this.#rev}`);
    }
    return revision;
  }

  #history(prefix: string, after: number, upTo: number, limit: number): WatchEvent[] {
    if (after + 1 < this.#compacted) {
      throw new CompactedError(
        `replaying ${prefix} after ${after}: compacted up to ${this.#compacted}`,
        this.#compacted,
      );
    }
    const out: WatchEvent[] = [];
    // The log is dense from its first entry on, so index arithmetic finds the start.
    const first = this.#log[0]?.kv.modRevision ?? this.#rev + 1;
    for (let i = Math.max(0, after + 1 - first); i < this.#log.length && out.length < limit; i++) {
      const e = this.#log[i]!;
      if (e.kv.modRevision > upTo) break;
      if (e.kv.modRevision > after && e.kv.key.startsWith(prefix)) out.push(e);
    }
    return out;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new UnavailableError(`${what}: the store is closed`);
  }
}
