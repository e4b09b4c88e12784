import type { Client, Clock, InformerFactory, KubeObject, Resource } from '../client/index.ts';
import { runWorkers, Workqueue } from '../client/index.ts';
import { ConflictError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

/** What every controller is built from: the cluster (client + shared informers), a logger and time. */
export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  log: Logger;
  clock: Clock;
}

/**
 * A controller: informer handlers that only compute keys and enqueue them, and
 * `reconcile(key)`, idempotent, reading from the informer caches and writing
 * through the client. A thrown error re-queues the key with back-off.
 */
export interface Controller {
  readonly name: string;
  readonly queue: Workqueue<string>;
  reconcile(key: string): Promise<void>;
  /** The informers whose caches reconcile reads; workers start once they have synced. */
  readonly informers: readonly Syncable[];
  /** How many keys are reconciled at once (default 2). */
  readonly workers?: number;
}

export interface Syncable {
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export type ControllerFactory = (ctx: ControllerContext) => Controller;

/** A workqueue on the context's clock with the default controller rate limiter. */
export function newQueue(ctx: ControllerContext): Workqueue<string> {
  return new Workqueue<string>({ clock: ctx.clock });
}

/**
 * Runs a controller until `signal` aborts: waits for the informers it asked for
 * to sync, then runs its workers. Resolves once every worker has stopped.
 */
export async function runController(
  ctx: ControllerContext,
  c: Controller,
  signal: AbortSignal,
): Promise<void> {
  const log = ctx.log.child({ controller: c.name });
  const synced = await Promise.all(c.informers.map((i) => i.waitForSync(signal)));
  if (!synced.every(Boolean)) {
    c.queue.shutDown();
    return;
  }
  log.info('controller started');
  await runWorkers(c.queue, c.workers ?? 2, (key) => c.reconcile(key), { signal, log });
  log.info('controller stopped');
}

/** RFC 3339 with seconds, as Kubernetes writes timestamps. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Writes `obj.status`; on a conflict (the cache lagged behind another writer)
 * reads the object again and retries once with the same status, as upstream's
 * status updaters do, instead of re-running the whole sync with back-off.
 */
export async function updateStatusFresh<T extends KubeObject>(
  client: Client,
  r: Resource,
  obj: T,
): Promise<T> {
  try {
    return await client.updateStatus(r, obj);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    const fresh = await client.get<T>(r, obj.metadata.name ?? '', { namespace: obj.metadata.namespace });
    if (fresh.metadata.uid !== obj.metadata.uid) throw err;
    return client.updateStatus(r, { ...fresh, status: obj.status });
  }
}
