import { Etcd3, type IKeyValue, type IOptions, type IRangeRequest } from 'etcd3';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../lib/errors.ts';
import {
  type KeyValue,
  type ListOptions,
  type ListResult,
  prefixEnd,
  type Store,
  type WatchEvent,
  type WatchOptions,
} from '../store.ts';
import { mapEtcdError, toKeyValue } from './convert.ts';
import { EtcdWatchHub } from './watch-hub.ts';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Extra etcd3 client options (TLS credentials, auth, fault handling). */
  client?: Omit<IOptions, 'hosts'>;
  /** Events a watcher may fall behind before it is cut off with WatchLaggedError. */
  watchCapacity?: number;
}

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const CompareTarget = { Create: 'Create', Mod: 'Mod', Version: 'Version' } as const;

/**
 * The Store over an etcd v3 cluster, through the `etcd3` client. etcd's own
 * revision is the store revision, and each verb is one etcd request:
 * create/update/delete are transactions comparing create_revision or
 * mod_revision, list is a range read with limit at a fixed revision, and
 * watches share one etcd watch (watch-hub.ts) with previous values.
 *
 * Writes are acknowledged by etcd after its raft log is fsynced. The client
 * retries requests that failed in transit, so a create whose first attempt was
 * applied but unacknowledged can report AlreadyExistsError, as with Kubernetes.
 */
export class EtcdStore implements Store {
  readonly #client: Etcd3;
  readonly #hub: EtcdWatchHub;
  #closed = false;

  constructor(options: EtcdStoreOptions) {
    this.#client = new Etcd3({ ...options.client, hosts: options.endpoints });
    this.#hub = new EtcdWatchHub(this.#client, {
      capacity: options.watchCapacity ?? 10_000,
      isCompacted: (revision) => this.#isCompacted(revision),
      currentRevision: () => this.currentRevision(),
    });
  }

  async get(key: string, options: { revision?: number } = {}): Promise<KeyValue | undefined> {
    const res = await this.#range({ key: enc(key), revision: options.revision ?? 0 }, `reading ${key}`);
    const kv = res.kvs[0];
    return kv === undefined ? undefined : toKeyValue(kv);
  }

  async list(options: ListOptions): Promise<ListResult> {
    const { prefix, limit, continueKey } = options;
    const start = continueKey !== undefined && continueKey >= prefix ? `${continueKey}\0` : prefix;
    const end = prefixEnd(prefix);
    const res = await this.#range(
      {
        key: start === '' ? Buffer.from([0]) : enc(start),
        range_end: end === '' ? Buffer.from([0]) : enc(end),
        revision: options.revision ?? 0,
        limit: limit !== undefined && limit > 0 ? limit : 0,
      },
      `listing ${prefix}`,
    );
    const items = res.kvs.map(toKeyValue);
    return {
      items,
      revision: options.revision ?? Number(res.header.revision),
      more: res.more,
      remaining: Number(res.count) - items.length,
    };
  }

  async count(prefix: string): Promise<number> {
    const end = prefixEnd(prefix);
    const res = await this.#range(
      {
        key: prefix === '' ? Buffer.from([0]) : enc(prefix),
        range_end: end === '' ? Buffer.from([0]) : enc(end),
        count_only: true,
      },
      `counting ${prefix}`,
    );
    return Number(res.count);
  }

  async create(key: string, value: Uint8Array): Promise<KeyValue> {
    const res = await this.#txn(
      {
        compare: [{ key: enc(key), target: CompareTarget.Create, result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: enc(key), value: Buffer.from(value) } }],
      },
      `creating ${key}`,
    );
    if (!res.succeeded) throw new AlreadyExistsError(`creating ${key}: already exists`);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev, version: 1 };
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number): Promise<KeyValue> {
    const res = await this.#txn(
      {
        compare: [
          { key: enc(key), target: CompareTarget.Mod, result: 'Equal', mod_revision: expectedModRevision },
        ],
        success: [{ request_put: { key: enc(key), value: Buffer.from(value), prev_kv: true } }],
        failure: [{ request_range: { key: enc(key) } }],
      },
      `updating ${key}`,
    );
    if (!res.succeeded)
      this.#failPrecondition('updating', key, expectedModRevision, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]?.response_put?.prev_kv;
    const rev = Number(res.header.revision);
    return {
      key,
      value,
      createRevision: prev ? Number(prev.create_revision) : rev,
      modRevision: rev,
      version: prev ? Number(prev.version) + 1 : 1,
    };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const compare =
      expectedModRevision === undefined
        ? { key: enc(key), target: CompareTarget.Version, result: 'Greater' as const, version: 0 }
        : {
            key: enc(key),
            target: CompareTarget.Mod,
            result: 'Equal' as const,
            mod_revision: expectedModRevision,
          };
    const res = await this.#txn(
      {
        compare: [compare],
        success: [{ request_delete_range: { key: enc(key), prev_kv: true } }],
        failure: [{ request_range: { key: enc(key) } }],
      },
      `deleting ${key}`,
    );
    if (!res.succeeded)
      this.#failPrecondition('deleting', key, expectedModRevision, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    // The compare proved the key existed, and the txn is atomic: prev is there.
    if (prev === undefined) throw new NotFoundError(`deleting ${key}: not found`);
    return { ...toKeyValue(prev), modRevision: Number(res.header.revision) };
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    return this.#hub.watch(options);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.#client.kv.compact({ revision, physical: false });
    } catch (err) {
      const mapped = mapEtcdError(err, `compacting at ${revision}`);
      // Compacting at or below the compaction point is a no-op by contract.
      if (mapped.name === 'CompactedError') return;
      throw mapped;
    }
  }

  async currentRevision(): Promise<number> {
    // A point read of a key that never exists: cheap, and its header carries the revision.
    const res = await this.#range({ key: Buffer.from([0]) }, 'reading the revision');
    return Number(res.header.revision);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.close();
    this.#client.close();
  }

  async #isCompacted(revision: number): Promise<boolean> {
    try {
      await this.#client.kv.range({ key: Buffer.from([0]), revision });
      return false;
    } catch (err) {
      return mapEtcdError(err, 'checking compaction').name === 'CompactedError';
    }
  }

  #failPrecondition(
    verb: string,
    key: string,
    expected: number | undefined,
    current: IKeyValue | undefined,
  ): never {
    if (current === undefined) throw new NotFoundError(`${verb} ${key}: not found`);
    throw new ConflictError(
      `${verb} ${key}: modified at revision ${current.mod_revision}, expected ${expected}`,
    );
  }

  async #range(req: IRangeRequest, what: string) {
    try {
      return await this.#client.kv.range(req);
    } catch (err) {
      throw mapEtcdError(err, what);
    }
  }

  async #txn(req: Parameters<Etcd3['kv']['txn']>[0], what: string) {
    try {
      return await this.#client.kv.txn(req);
    } catch (err) {
      throw mapEtcdError(err, what);
    }
  }
}
