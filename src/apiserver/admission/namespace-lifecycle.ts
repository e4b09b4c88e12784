import type { ResourceType } from '../../api/resource.ts';
import { isObject, type KubeObject } from '../../api/types.ts';
import { ForbiddenError, NotFoundError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';

const immortal = new Set(['default', 'kube-system', 'kube-public']);

/**
 * Namespaced objects may only be created in a namespace that exists and is
 * not terminating (upstream's NamespaceLifecycle admission plugin). Reads a
 * watch-fed cache of namespaces and falls back to the store when a namespace
 * is missing from it (it may have just been created).
 */
export class NamespaceLifecycle implements Admission {
  readonly #objects: () => ObjectStore;
  readonly #namespaceType: ResourceType;
  readonly #cache = new Map<string, KubeObject>();
  #watching = false;

  constructor(objects: () => ObjectStore, namespaceType: ResourceType) {
    this.#objects = objects;
    this.#namespaceType = namespaceType;
  }

  /** Fills the cache and keeps it current until `signal` aborts. */
  async start(signal: AbortSignal, log: Logger): Promise<void> {
    const objects = this.#objects();
    const prefix = objects.prefix(this.#namespaceType);
    const page = await objects.store.list({ prefix });
    for (const kv of page.items) this.#put(objects.decode(kv));
    this.#watching = true;
    void (async () => {
      try {
        for await (const ev of objects.store.watch({ prefix, fromRevision: page.revision, signal })) {
          const ns = objects.decode(ev.kv);
          if (ev.type === 'delete') this.#cache.delete(ns.metadata.name ?? '');
          else this.#put(ns);
        }
      } catch (err) {
        if (!signal.aborted) log.warn({ err }, 'namespace cache watch ended; reading the store directly');
      } finally {
        this.#watching = false;
        this.#cache.clear();
      }
    })();
  }

  #put(ns: KubeObject): void {
    if (ns.metadata.name) this.#cache.set(ns.metadata.name, ns);
  }

  /** The system namespaces cannot be deleted (upstream: immortal namespaces). */
  async admitDelete(type: ResourceType, obj: KubeObject): Promise<void> {
    if (type !== this.#namespaceType) return;
    const name = obj.metadata.name ?? '';
    if (immortal.has(name))
      throw new ForbiddenError(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || !req.type.namespaced) return;
    const ns = req.obj.metadata.namespace;
    if (!ns) return;
    const obj =
      (this.#watching ? this.#cache.get(ns) : undefined) ??
      (await this.#objects().tryGet(this.#namespaceType, undefined, ns));
    if (!obj) throw new NotFoundError(`namespaces "${ns}" not found`);
    const phase = isObject(obj.status) ? obj.status.phase : undefined;
    if (obj.metadata.deletionTimestamp || phase === 'Terminating') {
      throw new ForbiddenError(
        `${req.type.plural} "${req.obj.metadata.name ?? ''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }
}
