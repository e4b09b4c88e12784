import type { Etcd3, IWatchResponse } from 'etcd3';
import { UnavailableError } from '../../lib/errors.ts';
import { EventQueue } from '../event-queue.ts';
import { CompactedError, type WatchEvent, type WatchOptions } from '../store.ts';
import { toWatchEvent } from './convert.ts';

export interface EtcdWatchDeps {
  capacity: number;
  /** Whether reading at `revision` fails because etcd compacted it. */
  isCompacted: (revision: number) => Promise<boolean>;
}

/**
 * An etcd watch from `fromRevision + 1` with previous values. The etcd3
 * client re-establishes dropped watch streams from the last revision it
 * delivered, so a reconnect neither loses nor repeats events. etcd cancels a
 * watch whose start revision was compacted without saying why in a way the
 * client passes on, so on cancellation we ask etcd whether that revision is
 * compacted and report CompactedError if it is.
 */
export function watchEtcd(
  client: Etcd3,
  options: WatchOptions,
  deps: EtcdWatchDeps,
): AsyncIterable<WatchEvent> {
  return { [Symbol.asyncIterator]: () => run(client, options, deps) };
}

async function* run(client: Etcd3, options: WatchOptions, deps: EtcdWatchDeps): AsyncGenerator<WatchEvent> {
  const { prefix, fromRevision, signal } = options;
  if (signal?.aborted) return;
  const queue = new EventQueue(deps.capacity);
  const watcher = client
    .watch()
    .prefix(prefix)
    .startRevision(String(fromRevision + 1))
    .withPreviousKV()
    .watcher();
  // etcd already dropped a watch that errored, and a cancel request for it
  // would wait forever for an answer; otherwise cancel exactly once.
  let cancelled: Promise<void> | undefined;
  const cancel = (): Promise<void> => {
    cancelled ??= watcher.cancel().catch(() => {});
    return cancelled;
  };
  const onData = (res: IWatchResponse): void => {
    const events = res.events.map(toWatchEvent);
    const last = events.at(-1);
    if (last === undefined) return;
    resumeAt = last.kv.modRevision + 1;
    if (!queue.push(events)) void cancel();
  };
  // The client would re-establish a dropped stream from the header revision
  // of the last response, which can skip events of a replay still in flight;
  // so a disconnect ends this watch and the caller re-watches from the last
  // revision it saw.
  let resumeAt = fromRevision + 1;
  const fail = (err: Error): void => {
    void deps.isCompacted(resumeAt).then(
      (compacted) =>
        queue.fail(
          compacted
            ? new CompactedError(`watching ${prefix} from revision ${resumeAt - 1}: compacted`, 0, {
                cause: err,
              })
            : new UnavailableError(`watching ${prefix}: etcd: ${err.message}`, { cause: err }),
        ),
      () => queue.fail(new UnavailableError(`watching ${prefix}: etcd: ${err.message}`, { cause: err })),
    );
  };
  const onError = (err: Error): void => {
    cancelled ??= Promise.resolve();
    fail(err);
  };
  const onDisconnected = (err: Error): void => {
    void cancel();
    fail(err);
  };
  const onAbort = (): void => queue.end();
  watcher.on('data', onData);
  watcher.on('error', onError);
  watcher.on('disconnected', onDisconnected);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const e = await queue.next();
      if (e === undefined) return;
      if (typeof e !== 'number') yield e;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    queue.end();
    watcher.removeListener('data', onData);
    watcher.removeListener('disconnected', onDisconnected);
    await cancel();
  }
}
