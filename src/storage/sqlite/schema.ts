import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { UnavailableError } from '../../lib/errors.ts';
import type { KeyValue, WatchEvent } from '../store.ts';

/**
 * The revision log, after kine: every write appends one row whose id is the
 * store revision. The current value of a key is its row with the highest id;
 * a key is absent when that row is a deletion. Compaction deletes rows that a
 * later row (at or below the compaction point) superseded.
 *
 * - created: 1 when the row creates the key (a new incarnation).
 * - deleted: 1 when the row deletes it; `value` then keeps the last value.
 * - create_revision, version: of the key's incarnation after this row.
 * - prev_revision, old_value: the previous row's id and value (0 / NULL for creates).
 */
const schema = `
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  value BLOB NOT NULL,
  old_value BLOB
) STRICT;
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
`;

const schemaVersion = 1;

export interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  version: number;
  value: Uint8Array;
  old_value: Uint8Array | null;
}

export const rowColumns =
  'id, name, created, deleted, create_revision, prev_revision, version, value, old_value';

/**
 * Opens (creating if needed) the database file in WAL mode with
 * synchronous=FULL, so a commit has reached the disk when it returns. SQLite
 * replays or discards the WAL of a crashed writer here, before any read.
 * The store keeps its revision in memory and so must be the only writer: the
 * connection takes an exclusive lock, held until close (the kernel drops it
 * if the process dies), and a second process opening the file fails.
 */
export function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 1000');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA cache_size = -32000');
    // A write transaction takes the exclusive lock now rather than at the first write.
    db.exec('BEGIN IMMEDIATE');
    db.exec(schema);
    db.exec('COMMIT');
  } catch (err) {
    db?.close();
    const message = (err as Error).message;
    const reason = /locked|busy/i.test(message) ? 'in use by another process' : message;
    throw new UnavailableError(`opening the sqlite datastore ${path}: ${reason}`, { cause: err });
  }
  const version = readMeta(db, 'schema_version');
  if (version === undefined) writeMeta(db, 'schema_version', schemaVersion);
  else if (version !== schemaVersion) {
    db.close();
    throw new UnavailableError(
      `opening the sqlite datastore ${path}: schema version ${version}, want ${schemaVersion}`,
    );
  }
  return db;
}

export function readMeta(db: DatabaseSync, key: string): number | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number } | undefined;
  return row?.value;
}

export function writeMeta(db: DatabaseSync, key: string, value: number): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

/** The highest revision ever assigned (AUTOINCREMENT never reuses ids, even after compaction). */
export function readRevision(db: DatabaseSync): number {
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").get() as
    | { seq: number }
    | undefined;
  return row?.seq ?? 0;
}

export function toKeyValue(r: Pick<Row, 'id' | 'name' | 'create_revision' | 'version' | 'value'>): KeyValue {
  return {
    key: r.name,
    value: r.value,
    createRevision: r.create_revision,
    modRevision: r.id,
    version: r.version,
  };
}

/** The change a row records, in the shape watchers receive. */
export function toEvent(r: Row): WatchEvent {
  const kv = toKeyValue(r);
  if (r.created) return { type: 'put', kv };
  const prevKv: KeyValue = {
    key: r.name,
    value: r.old_value ?? r.value,
    createRevision: r.create_revision,
    modRevision: r.prev_revision,
    version: r.deleted ? r.version : r.version - 1,
  };
  return { type: r.deleted ? 'delete' : 'put', kv, prevKv };
}
