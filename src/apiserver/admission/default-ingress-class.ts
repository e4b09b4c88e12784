import type { ResourceType } from '../../api/resource.ts';
import { isObject, type KubeObject } from '../../api/types.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';

/**
 * Upstream's DefaultIngressClass admission plugin: an Ingress created
 * without `spec.ingressClassName` (and without the legacy
 * kubernetes.io/ingress.class annotation) gets the IngressClass marked
 * ingressclass.kubernetes.io/is-default-class (the newest, when several are).
 */
export class DefaultIngressClass implements Admission {
  readonly #objects: () => ObjectStore;
  readonly #classType: ResourceType;
  readonly #ingressType: ResourceType;

  constructor(objects: () => ObjectStore, classType: ResourceType, ingressType: ResourceType) {
    this.#objects = objects;
    this.#classType = classType;
    this.#ingressType = ingressType;
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || req.type !== this.#ingressType || req.subresource) return;
    const spec = isObject(req.obj.spec) ? req.obj.spec : undefined;
    if (!spec || spec.ingressClassName !== undefined) return;
    if (req.obj.metadata.annotations?.['kubernetes.io/ingress.class'] !== undefined) return;
    const name = await this.#defaultClass();
    if (name) spec.ingressClassName = name;
  }

  async #defaultClass(): Promise<string | undefined> {
    const objects = this.#objects();
    const page = await objects.store.list({ prefix: objects.prefix(this.#classType) });
    const marked = page.items
      .map((kv) => objects.decode(kv))
      .filter(
        (c: KubeObject) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
      );
    marked.sort(
      (a, b) =>
        (Date.parse(b.metadata.creationTimestamp ?? '') || 0) -
          (Date.parse(a.metadata.creationTimestamp ?? '') || 0) ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
    return marked[0]?.metadata.name;
  }
}
