import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { AlreadyExistsError, ConflictError, NotFoundError, UnavailableError } from '../../lib/errors.ts';
import type { KeyValue, WatchEvent } from '../store.ts';
import { type Row, rowColumns, toEvent, toKeyValue } from './schema.ts';

export type WriteOp =
  | { kind: 'create'; key: string; value: Uint8Array }
  | { kind: 'update'; key: string; value: Uint8Array; expectedModRevision: number }
  | { kind: 'delete'; key: string; expectedModRevision?: number };

interface Pending {
  op: WriteOp;
  resolve: (kv: KeyValue) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** The last revision assigned; each applied write takes the next one. */
  revision: number;
  /** Called synchronously after each durable commit, before any writer's promise settles. */
  onCommit: (revision: number, events: WatchEvent[]) => void;
  /** Most writes per transaction. */
  maxBatch?: number;
}

/**
 * Group commit: writes submitted while the previous transaction was being
 * made durable are applied together in the next one, so one fsync
 * acknowledges many writes. Each write still gets its own revision and its own
 * outcome (a failed precondition fails only that write). Ops in a batch run
 * in submission order, so of two creates of one key the first wins.
 */
export class GroupCommitter {
  readonly #db: DatabaseSync;
  readonly #latest: StatementSync;
  readonly #insert: StatementSync;
  readonly #onCommit: GroupCommitOptions['onCommit'];
  readonly #maxBatch: number;
  #revision: number;
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(db: DatabaseSync, options: GroupCommitOptions) {
    this.#db = db;
    this.#revision = options.revision;
    this.#onCommit = options.onCommit;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#latest = db.prepare(`SELECT ${rowColumns} FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1`);
    this.#insert = db.prepare(`INSERT INTO kv (${rowColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  submit(op: WriteOp): Promise<KeyValue> {
    return new Promise<KeyValue>((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate runs after pending I/O callbacks, so writes arriving in
        // this turn of the event loop join the batch.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Fails every queued write; used on close. */
  abort(err: unknown): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const p of queue) p.reject(err);
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#commit(batch);
    }
  }

  #commit(batch: Pending[]): void {
    const outcomes: Array<{ row: Row } | { err: unknown }> = [];
    const start = this.#revision;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const p of batch) {
        try {
          outcomes.push({ row: this.#apply(p.op) });
        } catch (err) {
          // A failed precondition fails that write only; anything else fails the batch.
          if (
            !(
              err instanceof NotFoundError ||
              err instanceof ConflictError ||
              err instanceof AlreadyExistsError
            )
          ) {
            throw err;
          }
          outcomes.push({ err });
        }
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#revision = start;
      try {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // The original error says more than a failed rollback.
      }
      const failure = new UnavailableError(`writing to the sqlite datastore: ${(err as Error).message}`, {
        cause: err,
      });
      for (const p of batch) p.reject(failure);
      return;
    }
    const events: WatchEvent[] = [];
    for (const o of outcomes) if ('row' in o) events.push(toEvent(o.row));
    if (events.length > 0) this.#onCommit(this.#revision, events);
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if ('row' in o) p.resolve(toKeyValue(o.row));
      else p.reject(o.err);
    });
  }

  #apply(op: WriteOp): Row {
    const latest = this.#latest.get(op.key) as Row | undefined;
    const live = latest !== undefined && latest.deleted === 0 ? latest : undefined;
    const rev = this.#revision + 1;
    let row: Row;
    if (op.kind === 'create') {
      if (live) throw new AlreadyExistsError(`creating ${op.key}: already exists`);
      row = {
        id: rev,
        name: op.key,
        created: 1,
        deleted: 0,
        create_revision: rev,
        prev_revision: latest?.id ?? 0,
        version: 1,
        value: op.value,
        old_value: null,
      };
    } else {
      const verb = op.kind === 'update' ? 'updating' : 'deleting';
      if (!live) throw new NotFoundError(`${verb} ${op.key}: not found`);
      if (op.expectedModRevision !== undefined && live.id !== op.expectedModRevision) {
        throw new ConflictError(
          `${verb} ${op.key}: modified at revision ${live.id}, expected ${op.expectedModRevision}`,
        );
      }
      const isDelete = op.kind === 'delete';
      row = {
        id: rev,
        name: op.key,
        created: 0,
        deleted: isDelete ? 1 : 0,
        create_revision: live.create_revision,
        prev_revision: live.id,
        version: isDelete ? live.version : live.version + 1,
        value: isDelete ? live.value : op.value,
        // A deletion's previous value is its `value`; no need to store it twice.
        old_value: isDelete ? null : live.value,
      };
    }
    this.#insert.run(
      row.id,
      row.name,
      row.created,
      row.deleted,
      row.create_revision,
      row.prev_revision,
      row.version,
      row.value,
      row.old_value,
    );
    this.#revision = rev;
    return row;
  }
}
