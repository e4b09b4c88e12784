import { ConflictError, UnavailableError } from '../lib/errors.ts';

/**
 * The datastore contract shared by every backend (memory, SQLite, etcd).
 *
 * Storage knows keys, bytes and revisions; it knows nothing of Kubernetes kinds.
 *
 * - Keys are strings such as `/registry/pods/default/web-1`. They are ordered
 *   by their UTF-8 bytes (for ASCII keys: ordinary string order).
 * - Values are opaque bytes (the apiserver stores JSON).
 * - One global revision counter, like etcd's: every successful write (create,
 *   update, delete) takes the next revision, and nothing else does. Revisions
 *   start above 0 and only increase; they may skip numbers (etcd backends share
 *   the counter with other writers of the same cluster).
 * - Writes are durable before their promise resolves.
 * - Errors: NotFoundError, AlreadyExistsError, ConflictError (stale
 *   `expectedModRevision`), CompactedError (asked for history that compaction
 *   removed; the apiserver maps it to 410 Gone), WatchLaggedError (a watcher fell
 *   too far behind), UnavailableError (the backend failed or is closed).
 */
export interface Store {
  /** The key's value at the latest revision, or at `revision` (CompactedError if compacted away). */
  get(key: string, options?: { revision?: number }): Promise<KeyValue | undefined>;

  /**
   * Keys under `prefix` in key order, read as one consistent snapshot at
   * `options.revision` (default: the latest revision). Pagination: pass the
   * previous page's last key as `continueKey` (exclusive start) and its
   * `revision` as `revision`, and every page reads the same snapshot even while
   * writes go on.
   */
  list(options: ListOptions): Promise<ListResult>;

  /** How many keys live under `prefix` at the latest revision. */
  count(prefix: string): Promise<number>;

  /** Creates the key. AlreadyExistsError if it exists. The result has version 1. */
  create(key: string, value: Uint8Array): Promise<KeyValue>;

  /**
   * Replaces the value if the key's current modRevision equals
   * `expectedModRevision` (compare-and-swap). NotFoundError if the key does not
   * exist, ConflictError if it was modified since.
   */
  update(key: string, value: Uint8Array, expectedModRevision: number): Promise<KeyValue>;

  /**
   * Deletes the key, only if its modRevision equals `expectedModRevision` when
   * that is given (ConflictError otherwise). NotFoundError if absent.
   * Returns the deleted entry: its last value, createRevision and version, with
   * `modRevision` set to the revision of the deletion.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /**
   * Every change under `prefix` with modRevision > `fromRevision`, in revision
   * order, each exactly once: first the history (replay), then live changes.
   * Iteration ends when `signal` aborts (the iterator then returns normally) or
   * with an error thrown from the iterator:
   * - CompactedError when `fromRevision + 1 < compactRevision` (the events are gone);
   * - WatchLaggedError when the consumer reads too slowly and its buffer
   *   overflows; writers are never blocked by a slow watcher. The caller should
   *   re-list (or re-watch from the last revision it saw).
   */
  watch(options: WatchOptions): AsyncIterable<WatchEvent>;

  /**
   * Discards history before `revision`: afterwards reads at a revision below it
   * and watches with `fromRevision + 1 < revision` throw CompactedError. Reads
   * at `revision` itself and later still work. Compacting at or below the
   * current compaction point is a no-op; above the current revision is an
   * InvalidError.
   */
  compact(revision: number): Promise<void>;

  /** The latest revision (0 for an empty, never-written store). */
  currentRevision(): Promise<number>;

  /** Releases files, connections and timers; ends open watches. Idempotent. */
  close(): Promise<void>;
}

export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** The revision at which this incarnation of the key was created. */
  readonly createRevision: number;
  /** The revision of the last write to the key (for deletes: of the deletion). */
  readonly modRevision: number;
  /** Writes since creation: 1 after create, +1 per update. */
  readonly version: number;
}

export interface ListOptions {
  /** Only keys starting with this string. `''` lists everything. */
  prefix: string;
  /** At most this many items (default: all). */
  limit?: number;
  /** Start after this key (exclusive); from a previous page's last item. */
  continueKey?: string;
  /** Read at this revision (default: latest). CompactedError if compacted away. */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the snapshot was read at; pass it back for the next page. */
  revision: number;
  /** More keys follow the last item at this revision. */
  more: boolean;
  /** How many keys follow, when the backend can tell cheaply. */
  remaining?: number;
}

export interface WatchOptions {
  prefix: string;
  /** Exclusive: events with modRevision > fromRevision. */
  fromRevision: number;
  signal?: AbortSignal;
  /**
   * Progress notification (for Kubernetes watch bookmarks on quiet prefixes):
   * called, between events, with a revision R such that every event under the
   * prefix with modRevision <= R has already been yielded. Values only grow.
   * It may be called from a writer's commit path, so it must be cheap and not throw.
   */
  onProgress?: (revision: number) => void;
}

/**
 * One change. `kv` is the key after the change; for deletes it carries the last
 * value, createRevision and version with modRevision = the deletion's revision.
 * `prevKv` is the key before the change: absent for creates, always present for
 * updates and deletes.
 */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}

/** History that compaction discarded was asked for (Kubernetes: 410 Gone, "Expired"). */
export class CompactedError extends ConflictError {
  override name = 'CompactedError';
  /** The store's compaction point when the error was raised (0 if unknown). */
  readonly compactRevision: number;
  constructor(message: string, compactRevision: number, options?: { cause?: unknown }) {
    super(message, options);
    this.compactRevision = compactRevision;
  }
}

/** A watcher's buffer overflowed because its consumer read too slowly. */
export class WatchLaggedError extends UnavailableError {
  override name = 'WatchLaggedError';
}

/** The first string after every string that starts with `prefix` ('' for an empty prefix: no bound). */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return '';
}
