import type { ResourceType } from '../../api/resource.ts';
import { isObject } from '../../api/types.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';
import { newestDefaultClass } from './default-class.ts';

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
    const name = await newestDefaultClass(
      this.#objects(),
      this.#classType,
      (c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
    );
    if (name) spec.ingressClassName = name;
  }
}
