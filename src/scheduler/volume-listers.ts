import type { InformerFactory, KubeObject, Resource, Store } from '../client/index.ts';
import { resources } from '../client/index.ts';
import type { VolumeListers } from './plugins/volume-binding.ts';

/**
 * VolumeBinding's read access through shared informers. The informers are
 * made lazily, on the first pod that mounts a claim, so clusters without
 * volumes pay nothing; until they sync, claims read as missing, and
 * `onChange` (any add or update of a claim, volume or class) lets the queue
 * retry the pods waiting for them.
 */
export function volumeListers(informers: InformerFactory, onChange: () => void): VolumeListers {
  const stores = new Map<string, Store>();
  const store = (r: Resource): Store => {
    let s = stores.get(r.resource);
    if (!s) {
      const inf = informers.informerFor(r);
      inf.addHandler({ onAdd: onChange, onUpdate: onChange });
      s = inf.store;
      stores.set(r.resource, s);
    }
    return s;
  };
  const get = (r: Resource, key: string) => store(r).get(key) as KubeObject | undefined;
  return {
    claim: (ns, name) => get(resources.persistentVolumeClaims, `${ns}/${name}`),
    volume: (name) => get(resources.persistentVolumes, name),
    storageClass: (name) => get(resources.storageClasses, name),
  };
}
