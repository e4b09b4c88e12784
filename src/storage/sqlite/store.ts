import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InvalidError, UnavailableError } from '../../lib/errors.ts';
import { EventBus } from '../event-bus.ts';
import {
  CompactedError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  prefixEnd,
  type Store,
  type WatchEvent,
  type WatchOptions,
} from '../store.ts';
import { GroupCommitter } from './group-commit.ts';
import {
  openDatabase,
  type Row,
  readMeta,
  readRevision,
  rowColumns,
  toEvent,
  toKeyValue,
  writeMeta,
} from './schema.ts';

export interface SqliteStoreOptions {
  /** The database file (created with its directory if missing). */
  path: string;
  /** Events a watcher may fall behind before it is cut off with WatchLaggedError. */
  watchCapacity?: number;
  /** Most writes committed in one transaction. */
  maxBatch?: number;
}

/** Rows whose successors a compaction step handles per transaction. */
const compactChunk = 10_000;

/**
 * The embedded Store: a kine-like revision log in one SQLite file (see
 * schema.ts), written by this process alone. Writes go through group commit
 * (group-commit.ts) and are durable (WAL, synchronous=FULL) before they
 * resolve; watchers are fed from an in-process EventBus right after each
 * commit. Reads run against explicit revisions no newer than the last
 * published one, so a list and a watch from its revision never disagree.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #bus: EventBus;
  readonly #writer: GroupCommitter;
  readonly #stmts: Map<string, StatementSync> = new Map();
  #revision: number;
  #compacted: number;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    this.#db = openDatabase(options.path);
    this.#revision = readRevision(this.#db);
    this.#compacted = readMeta(this.#db, 'compact_revision') ?? 0;
    this.#bus = new EventBus(
      {
        compactRevision: () => this.#compacted,
        currentRevision: () => this.#revision,
        history: (prefix, after, upTo, limit) => this.#history(prefix, after, upTo, limit),
      },
      { capacity: options.watchCapacity },
    );
    this.#writer = new GroupCommitter(this.#db, {
      revision: this.#revision,
      maxBatch: options.maxBatch,
      onCommit: (revision, events) => {
        this.#revision = revision;
        this.#bus.publish(events);
      },
    });
  }

  async get(key: string, options: { revision?: number } = {}): Promise<KeyValue | undefined> {
    const rev = this.#readRevision(options.revision, `reading ${key}`);
    const row = this.#stmt(
      'get',
      `SELECT id, name, deleted, create_revision, version, value FROM kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`,
    ).get(key, rev) as Row | undefined;
    return row === undefined || row.deleted ? undefined : toKeyValue(row);
  }

  async list(options: ListOptions): Promise<ListResult> {
    const { prefix, limit, continueKey } = options;
    const rev = this.#readRevision(options.revision, `listing ${prefix}`);
    const end = prefixEnd(prefix);
    const max = limit !== undefined && limit > 0 ? limit : -1;
    // Only what a KeyValue needs (old_value would be copied out for nothing),
    // as arrays: building 10,000 row objects costs more than the query.
    const sql = `SELECT k.name, k.value, k.create_revision, k.id, k.version FROM kv AS k
      WHERE k.name >= ? AND k.name > ? ${end ? 'AND k.name < ?' : ''} AND k.id <= ? AND k.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = k.name AND n.id > k.id AND n.id <= ?)
      ORDER BY k.name LIMIT ?`;
    const params = [prefix, continueKey ?? '', ...(end ? [end] : []), rev, rev, max < 0 ? -1 : max + 1];
    const stmt = this.#stmt(`list${end ? '-end' : ''}`, sql);
    stmt.setReturnArrays(true);
    const rows = stmt.all(...params) as unknown as Array<[string, Uint8Array, number, number, number]>;
    const more = max >= 0 && rows.length > max;
    if (more) rows.pop();
    const items = rows.map(
      ([key, value, createRevision, modRevision, version]): KeyValue => ({
        key,
        value,
        createRevision,
        modRevision,
        version,
      }),
    );
    return { items, revision: rev, more };
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen('counting');
    const end = prefixEnd(prefix);
    const sql = `SELECT COUNT(*) AS n FROM kv AS k
      WHERE k.name >= ? ${end ? 'AND k.name < ?' : ''} AND k.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = k.name AND n.id > k.id)`;
    const row = this.#stmt(`count${end ? '-end' : ''}`, sql).get(prefix, ...(end ? [end] : [])) as {
      n: number;
    };
    return row.n;
  }

  async create(key: string, value: Uint8Array): Promise<KeyValue> {
    this.#checkOpen('creating');
    return this.#writer.submit({ kind: 'create', key, value });
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number): Promise<KeyValue> {
    this.#checkOpen('updating');
    return this.#writer.submit({ kind: 'update', key, value, expectedModRevision });
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.#checkOpen('deleting');
    return this.#writer.submit({ kind: 'delete', key, expectedModRevision });
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    return this.#bus.watch(options);
  }

  /**
   * Deletes, in chunks that leave the event loop free between them, every row
   * superseded by a row at or below `revision` and every deletion row below
   * it. The new compaction point is recorded (and enforced for readers) before
   * any row goes, so a crash midway leaves extra rows, never wrong reads.
   */
  async compact(revision: number): Promise<void> {
    this.#checkOpen('compacting');
    if (revision > this.#revision) {
      throw new InvalidError(`compacting at ${revision}: beyond the current revision ${this.#revision}`);
    }
    const previous = this.#compacted;
    if (revision <= previous) return;
    this.#compacted = revision;
    writeMeta(this.#db, 'compact_revision', revision);
    const superseded = this.#stmt(
      'compact-superseded',
      'DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0)',
    );
    const deletions = this.#stmt(
      'compact-deletions',
      'DELETE FROM kv WHERE deleted = 1 AND id >= ? AND id < ?',
    );
    for (let lo = previous; lo < revision; lo += compactChunk) {
      const hi = Math.min(lo + compactChunk, revision);
      if (this.#closed) return;
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        superseded.run(lo, hi);
        deletions.run(lo, hi);
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw new UnavailableError(
          `compacting the sqlite datastore at ${revision}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      await yieldToLoop();
    }
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen('reading the revision');
    return this.#revision;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bus.close();
    this.#writer.abort(new UnavailableError('writing: the store is closed'));
    this.#stmts.clear();
    this.#db.close();
  }

  #history(prefix: string, after: number, upTo: number, limit: number): WatchEvent[] {
    if (after + 1 < this.#compacted) {
      throw new CompactedError(
        `replaying ${prefix} after ${after}: compacted up to ${this.#compacted}`,
        this.#compacted,
      );
    }
    const end = prefixEnd(prefix);
    const sql = `SELECT ${rowColumns} FROM kv
      WHERE id > ? AND id <= ? AND name >= ? ${end ? 'AND name < ?' : ''} ORDER BY id LIMIT ?`;
    const rows = this.#stmt(`history${end ? '-end' : ''}`, sql).all(
      after,
      upTo,
      prefix,
      ...(end ? [end] : []),
      limit,
    ) as unknown as Row[];
    return rows.map(toEvent);
  }

  #readRevision(revision: number | undefined, what: string): number {
    this.#checkOpen(what);
    if (revision === undefined || revision <= 0) return this.#revision;
    if (revision < this.#compacted) {
      throw new CompactedError(
        `${what} at revision ${revision}: compacted up to ${this.#compacted}`,
        this.#compacted,
      );
    }
    if (revision > this.#revision) {
      throw new InvalidError(
        `${what} at revision ${revision}: beyond the current revision ${this.#revision}`,
      );
    }
    return revision;
  }

  #stmt(name: string, sql: string): StatementSync {
    let s = this.#stmts.get(name);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(name, s);
    }
    return s;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new UnavailableError(`${what}: the store is closed`);
  }
}
