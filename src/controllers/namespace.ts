import { type Informer, type KubeObject, type Resource, resources, type Workqueue } from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { newQueue } from './controller.ts';

/** How long to wait before looking again at a namespace that still has content. */
const recheckMs = 1000;

const r = (group: string, version: string, resource: string, kind: string): Resource => ({
  group,
  version,
  resource,
  kind,
  namespaced: true,
});

/** Namespaced built-ins the server serves that client/resources.ts does not name. */
const extraNamespaced: Resource[] = [
  r('', 'v1', 'podtemplates', 'PodTemplate'),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  r('networking.k8s.io', 'v1', 'ingresses', 'Ingress'),
  r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy'),
  r('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler'),
];

export const customResourceDefinitions: Resource = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; kind?: string };
  versions?: { name: string; served?: boolean; storage?: boolean }[];
}

/**
 * Empties namespaces being deleted and then releases them: deletes every
 * namespaced object (built-in kinds and namespaced custom resources), waits
 * for them to go (finalizers, graceful pod deletion), then removes the
 * `kubernetes` finalizer through `namespaces/{name}/finalize` so the server
 * drops the namespace. The Client has no discovery call yet, so the kinds come
 * from client/resources.ts, the list above and the CRDs.
 */
export class NamespaceController implements Controller {
  readonly name = 'namespace';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 10;
  readonly informers: Informer[];
  readonly #ctx: ControllerContext;
  readonly #namespaces: Informer;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#namespaces = ctx.informers.informerFor(resources.namespaces);
    this.informers = [this.#namespaces];
    const enqueue = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name ?? '');
    };
    this.#namespaces.addHandler({ onAdd: enqueue, onUpdate: (_, ns) => enqueue(ns) });
  }

  async reconcile(name: string): Promise<void> {
    const ns = this.#namespaces.store.get(name);
    if (!ns?.metadata.deletionTimestamp) return;
    let left = 0;
    for (const res of await this.#namespacedResources()) left += await this.#deleteAll(res, name);
    if (left > 0) {
      this.#ctx.log.debug({ namespace: name, left }, 'namespace still has content');
      this.queue.addAfter(name, recheckMs);
      return;
    }
    const finalizers = ((ns.spec?.finalizers ?? []) as string[]).filter((f) => f !== 'kubernetes');
    if (finalizers.length === ((ns.spec?.finalizers ?? []) as string[]).length) return;
    const body = { ...structuredClone(ns), spec: { ...ns.spec, finalizers } };
    try {
      await this.#ctx.client.updateSubresource(resources.namespaces, name, 'finalize', body);
      this.#ctx.log.debug({ namespace: name }, 'namespace finalized');
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** Deletes what is left of `res` in `namespace`; returns how many objects still exist. */
  async #deleteAll(res: Resource, namespace: string): Promise<number> {
    const client = this.#ctx.client;
    let items: KubeObject[];
    try {
      items = (await client.list(res, { namespace })).items;
    } catch (err) {
      if (err instanceof NotFoundError) return 0; // not served by this server
      throw err;
    }
    for (const obj of items) {
      if (obj.metadata.deletionTimestamp) continue;
      try {
        await client.delete(res, obj.metadata.name ?? '', {
          namespace,
          propagationPolicy: 'Background',
          preconditions: { uid: obj.metadata.uid },
        });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return items.length;
  }

  async #namespacedResources(): Promise<Resource[]> {
    const builtin = Object.values(resources).filter((x) => x.namespaced);
    const custom: Resource[] = [];
    try {
      const crds = await this.#ctx.client.list(customResourceDefinitions);
      for (const crd of crds.items) {
        const spec = (crd.spec ?? {}) as CrdSpec;
        const v = spec.versions?.find((x) => x.storage) ?? spec.versions?.find((x) => x.served);
        if (spec.scope !== 'Namespaced' || !v || !spec.group || !spec.names?.plural) continue;
        custom.push(r(spec.group, v.name, spec.names.plural, spec.names.kind ?? ''));
      }
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    return [...builtin, ...extraNamespaced, ...custom];
  }
}

export const newNamespaceController = (ctx: ControllerContext) => new NamespaceController(ctx);
