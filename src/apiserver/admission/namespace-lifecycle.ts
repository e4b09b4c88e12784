import type { ResourceType } from '../../api/resource.ts';
import { isObject } from '../../api/types.ts';
import { ForbiddenError, NotFoundError } from '../../lib/errors.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';

/**
 * Namespaced objects may only be created in a namespace that exists and is
 * not terminating (upstream's NamespaceLifecycle admission plugin).
 */
export class NamespaceLifecycle implements Admission {
  readonly #objects: () => ObjectStore;
  readonly #namespaceType: ResourceType;

  constructor(objects: () => ObjectStore, namespaceType: ResourceType) {
    this.#objects = objects;
    this.#namespaceType = namespaceType;
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || !req.type.namespaced) return;
    const ns = req.obj.metadata.namespace;
    if (!ns) return;
    const obj = await this.#objects().tryGet(this.#namespaceType, undefined, ns);
    if (!obj) throw new NotFoundError(`namespaces "${ns}" not found`);
    const phase = isObject(obj.status) ? obj.status.phase : undefined;
    if (obj.metadata.deletionTimestamp || phase === 'Terminating') {
      throw new ForbiddenError(
        `${req.type.plural} "${req.obj.metadata.name ?? ''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }
}
