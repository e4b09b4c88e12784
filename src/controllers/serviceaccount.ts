import { type Informer, type KubeObject, keyOf, resources, type Workqueue } from '../client/index.ts';
import { AlreadyExistsError, ForbiddenError, NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { newQueue } from './controller.ts';

/** The accounts every namespace gets (upstream's ServiceAccountsController default). */
export const defaultServiceAccounts = ['default'];

/**
 * Keeps a `default` ServiceAccount in every active namespace, creating it
 * when a namespace appears and again when someone deletes it (upstream's
 * serviceaccount controller; tokens are not its business). Keys are
 * namespace names.
 */
export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount';
  readonly queue: Workqueue<string>;
  readonly workers = 1;
  readonly informers: Informer[];
  readonly #ctx: ControllerContext;
  readonly #namespaces: Informer;
  readonly #accounts: Informer;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#namespaces = ctx.informers.informerFor(resources.namespaces);
    this.#accounts = ctx.informers.informerFor(resources.serviceAccounts);
    this.informers = [this.#namespaces, this.#accounts];
    this.#namespaces.addHandler({
      onAdd: (ns) => this.queue.add(keyOf(ns)),
      onUpdate: (_, ns) => this.queue.add(keyOf(ns)),
    });
    this.#accounts.addHandler({
      onDelete: (sa: KubeObject) => {
        if (defaultServiceAccounts.includes(sa.metadata.name ?? ''))
          this.queue.add(sa.metadata.namespace ?? '');
      },
    });
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.#namespaces.store.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of defaultServiceAccounts) {
      if (this.#accounts.store.has(`${namespace}/${name}`)) continue;
      try {
        await this.#ctx.client.create(resources.serviceAccounts, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace },
        });
        this.#ctx.log.debug({ namespace, name }, 'service account created');
      } catch (err) {
        // Already there (the cache lagged), or the namespace went away or began terminating meanwhile.
        if (
          err instanceof AlreadyExistsError ||
          err instanceof NotFoundError ||
          err instanceof ForbiddenError
        )
          continue;
        throw err;
      }
    }
  }
}

export const newServiceAccountController = (ctx: ControllerContext) => new ServiceAccountController(ctx);
