import { typesFromCrd } from '../api/kinds/index.ts';
import type { ResourceType } from '../api/resource.ts';
import type { Logger } from '../lib/logger.ts';
import type { ObjectStore } from './object-store.ts';
import type { TypeRegistry } from './type-registry.ts';

/**
 * Keeps the type registry in step with stored CustomResourceDefinitions: lists
 * them at start, then follows the store's watch, so custom resources are
 * served as soon as their CRD is written (by this or another server).
 */
export async function watchCrds(opts: {
  objects: ObjectStore;
  types: TypeRegistry;
  crdType: ResourceType;
  log: Logger;
  signal: AbortSignal;
}): Promise<void> {
  const { objects, types, crdType, log, signal } = opts;
  const prefix = objects.prefix(crdType);
  const page = await objects.store.list({ prefix });
  for (const kv of page.items) {
    const crd = objects.decode(kv);
    types.setCustom(crd.metadata.name ?? '', typesFromCrd(crd));
  }
  const follow = async (from: number) => {
    for (;;) {
      try {
        for await (const ev of objects.store.watch({ prefix, fromRevision: from, signal })) {
          from = ev.kv.modRevision;
          const crd = objects.decode(ev.kv);
          const name = crd.metadata.name ?? '';
          types.setCustom(name, ev.type === 'delete' ? [] : typesFromCrd(crd));
          log.debug({ crd: name, event: ev.type }, 'custom resource types updated');
        }
        return;
      } catch (err) {
        if (signal.aborted) return;
        log.warn({ err }, 'crd watch ended; resuming');
        from = await objects.store.currentRevision();
      }
    }
  };
  void follow(page.revision);
}
