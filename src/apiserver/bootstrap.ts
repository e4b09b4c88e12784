import type { ResourceType } from '../api/resource.ts';
import { AlreadyExistsError } from '../lib/errors.ts';
import type { ObjectStore } from './object-store.ts';
import type { TypeRegistry } from './type-registry.ts';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(
  objects: ObjectStore,
  type: ResourceType,
  obj: Parameters<ObjectStore['create']>[1],
): Promise<void> {
  try {
    await objects.create(type, obj, { fieldManager: 'kube-apiserver' });
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
}

/** Creates what every cluster starts with: the system namespaces and the `kubernetes` Service. */
export async function bootstrap(objects: ObjectStore, types: TypeRegistry, apiPort: number): Promise<void> {
  const nsType = types.lookup('', 'v1', 'namespaces');
  const svcType = types.lookup('', 'v1', 'services');
  if (!nsType || !svcType) throw new Error('bootstrapping: core types are not registered');
  await Promise.all(
    systemNamespaces.map(async (name) => {
      if (!(await objects.tryGet(nsType, undefined, name)))
        await ensure(objects, nsType, { metadata: { name } });
    }),
  );
  if (!(await objects.tryGet(svcType, 'default', 'kubernetes'))) {
    await ensure(objects, svcType, {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        clusterIP: '10.43.0.1',
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }],
      },
    });
  }
}
