import type { IEvent, IKeyValue } from 'etcd3';
import { InvalidError, UnavailableError } from '../../lib/errors.ts';
import { CompactedError, type KeyValue, type WatchEvent } from '../store.ts';

/** etcd's int64 fields arrive as decimal strings; store revisions fit in a double for 2^53 writes. */
export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
}

/**
 * An etcd watch event in the Store's shape. etcd's delete events carry only
 * the key and the deletion's revision; the previous value (requested with
 * prev_kv) fills in the rest, as the Store contract promises.
 */
export function toWatchEvent(ev: IEvent): WatchEvent {
  const prevKv = ev.prev_kv ? toKeyValue(ev.prev_kv) : undefined;
  if (ev.type === 'Delete') {
    const modRevision = Number(ev.kv.mod_revision);
    const kv: KeyValue = prevKv
      ? { ...prevKv, modRevision }
      : {
          key: ev.kv.key.toString('utf8'),
          value: new Uint8Array(),
          createRevision: 0,
          modRevision,
          version: 0,
        };
    return { type: 'delete', kv, ...(prevKv ? { prevKv } : {}) };
  }
  return { type: 'put', kv: toKeyValue(ev.kv), ...(prevKv ? { prevKv } : {}) };
}

/** One place that turns the etcd3 client's errors into storage's error classes. */
export function mapEtcdError(err: unknown, what: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('required revision has been compacted')) {
    return new CompactedError(`${what}: the revision has been compacted`, 0, { cause: err });
  }
  if (message.includes('required revision is a future revision')) {
    return new InvalidError(`${what}: the revision is in the future`, { cause: err });
  }
  return new UnavailableError(`${what}: etcd: ${message}`, { cause: err });
}
