import type { ResourceType } from '../../api/resource.ts';
import { isObject, type KubeObject } from '../../api/types.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';
import { newestDefaultClass } from './default-class.ts';

const defaultAnnotations = [
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
];

/** Whether a StorageClass is marked as the cluster's default. */
export function isDefaultClass(sc: KubeObject): boolean {
  return defaultAnnotations.some((a) => sc.metadata.annotations?.[a] === 'true');
}

/**
 * Upstream's DefaultStorageClass admission plugin: a PersistentVolumeClaim
 * created without `spec.storageClassName` gets the default StorageClass (the
 * newest, when several are marked). An explicit `""` means "no class" and is
 * left alone, as upstream does.
 */
export class DefaultStorageClass implements Admission {
  readonly #objects: () => ObjectStore;
  readonly #classType: ResourceType;
  readonly #claimType: ResourceType;

  constructor(objects: () => ObjectStore, classType: ResourceType, claimType: ResourceType) {
    this.#objects = objects;
    this.#classType = classType;
    this.#claimType = claimType;
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || req.type !== this.#claimType || req.subresource) return;
    const spec = isObject(req.obj.spec) ? req.obj.spec : undefined;
    if (!spec || spec.storageClassName !== undefined) return;
    const name = await newestDefaultClass(this.#objects(), this.#classType, isDefaultClass);
    if (name) spec.storageClassName = name;
  }
}
