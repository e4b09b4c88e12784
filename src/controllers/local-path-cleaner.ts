/**
 * The node half of the local-path provisioner, run beside each node's agent
 * (cli/daemons/local-node.ts): it tells the provisioner where this node keeps
 * volumes (the `drover.io/local-path-dir` Node annotation), and when a volume
 * provisioned on this node is deleted (its claim gone, reclaim policy Delete)
 * it removes the volume's directory, then the volume's cleanup finalizer.
 */
import { rm } from 'node:fs/promises';
import { basename, isAbsolute, normalize } from 'node:path';
import {
  type Client,
  type Clock,
  type Informer,
  type InformerFactory,
  realClock,
  resources,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, runController } from './controller.ts';
import { cleanupFinalizer, nodeAnnotation, nodeDirAnnotation } from './local-path-provisioner.ts';
import type { PersistentVolume } from './persistent-volume-match.ts';

/** Whether `path` is a directory this provisioner made for `pv` (never anything else is removed). */
export function isProvisionedPath(pv: PersistentVolume, path: string | undefined): path is string {
  if (!path || !isAbsolute(path) || normalize(path) !== path) return false;
  return basename(path).startsWith(`${pv.metadata.name ?? ''}_`) && path.split('/').length > 2;
}

export class LocalPathCleaner implements Controller {
  readonly name = 'local-path-cleaner';
  readonly queue: Workqueue<string>;
  readonly #ctx: ControllerContext;
  readonly #node: string;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #remove: (path: string) => Promise<void>;
  readonly informers: Syncable[];

  constructor(ctx: ControllerContext, o: { nodeName: string; remove?: (path: string) => Promise<void> }) {
    this.#ctx = ctx;
    this.#node = o.nodeName;
    this.#remove = o.remove ?? ((p) => rm(p, { recursive: true, force: true }));
    this.queue = newQueue(ctx);
    this.#volumes = ctx.informers.informerFor<PersistentVolume>(resources.persistentVolumes);
    this.informers = [this.#volumes];
    const enqueue = (v: PersistentVolume) => {
      if (v.metadata.deletionTimestamp && v.metadata.annotations?.[nodeAnnotation] === this.#node)
        this.queue.add(v.metadata.name ?? '');
    };
    this.#volumes.addHandler({ onAdd: enqueue, onUpdate: (_, v) => enqueue(v) });
  }

  async reconcile(name: string): Promise<void> {
    const pv = this.#volumes.store.get(name);
    if (!pv?.metadata.deletionTimestamp || pv.metadata.annotations?.[nodeAnnotation] !== this.#node) return;
    const finalizers = pv.metadata.finalizers ?? [];
    if (!finalizers.includes(cleanupFinalizer)) return;
    const path = pv.spec?.local?.path ?? pv.spec?.hostPath?.path;
    if (isProvisionedPath(pv, path)) {
      await this.#remove(path);
      this.#ctx.log.debug({ volume: name, path }, 'local volume directory removed');
    } else this.#ctx.log.warn({ volume: name, path }, 'not removing a path the provisioner did not make');
    try {
      await this.#ctx.client.patch(
        resources.persistentVolumes,
        name,
        'json',
        [
          { op: 'test', path: '/metadata/uid', value: pv.metadata.uid },
          {
            op: 'replace',
            path: '/metadata/finalizers',
            value: finalizers.filter((f) => f !== cleanupFinalizer),
          },
        ],
        {},
      );
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

export interface LocalPathNodeOptions {
  client: Client;
  /** The node's informer factory (already started: the agent's). */
  informers: InformerFactory;
  nodeName: string;
  /** Where this node keeps local-path volumes (`<dataDir>/storage`). */
  dir: string;
  log: Logger;
  clock?: Clock;
}

/** Annotates the Node with its volume directory and runs the cleaner until `stop()`. */
export async function startLocalPathNode(o: LocalPathNodeOptions): Promise<{ stop(): Promise<void> }> {
  await o.client.patch(
    resources.nodes,
    o.nodeName,
    'merge',
    { metadata: { annotations: { [nodeDirAnnotation]: o.dir } } },
    {},
  );
  const ctx: ControllerContext = {
    client: o.client,
    informers: o.informers,
    log: o.log.child({ controller: 'local-path-cleaner' }),
    clock: o.clock ?? realClock,
  };
  const abort = new AbortController();
  const running = runController(ctx, new LocalPathCleaner(ctx, { nodeName: o.nodeName }), abort.signal).catch(
    (err: unknown) => ctx.log.error({ err }, 'local-path cleaner failed'),
  );
  return {
    async stop() {
      abort.abort();
      await running;
    },
  };
}
