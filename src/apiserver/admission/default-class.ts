import type { ResourceType } from '../../api/resource.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ObjectStore } from '../object-store.ts';

/**
 * The class objects of `classType` marked as the default (by `isDefault`),
 * newest first as upstream's DefaultStorageClass and DefaultIngressClass
 * admission plugins pick them; the name of the first, if any.
 */
export async function newestDefaultClass(
  objects: ObjectStore,
  classType: ResourceType,
  isDefault: (c: KubeObject) => boolean,
): Promise<string | undefined> {
  const page = await objects.store.list({ prefix: objects.prefix(classType) });
  const marked = page.items.map((kv) => objects.decode(kv)).filter(isDefault);
  marked.sort(
    (a, b) =>
      (Date.parse(b.metadata.creationTimestamp ?? '') || 0) -
        (Date.parse(a.metadata.creationTimestamp ?? '') || 0) ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  return marked[0]?.metadata.name;
}
