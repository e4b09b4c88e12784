import type { Client, KubeObject, Pod } from '../../client/index.ts';
import { resources } from '../../client/index.ts';
import { UnavailableError } from '../../lib/errors.ts';
import type { NodeInfo } from '../node-info.ts';
import {
  type CycleState,
  type NodeSelectorTerm,
  type Plugin,
  type Status,
  specOf,
  unresolvable,
} from '../types.ts';
import { matchesTerm } from './node-affinity.ts';

export const conflictReason = 'node(s) had volume node affinity conflict';
export const unboundImmediateReason = 'pod has unbound immediate PersistentVolumeClaims';
export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';

interface Claim extends KubeObject {
  spec?: { volumeName?: string; storageClassName?: string };
  status?: { phase?: string };
}
interface Volume extends KubeObject {
  spec?: { nodeAffinity?: { required?: { nodeSelectorTerms: NodeSelectorTerm[] } } };
}
interface StorageClass extends KubeObject {
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
}

/** Read access to the volume objects (informer stores in the scheduler, maps in tests). */
export interface VolumeListers {
  claim(namespace: string, name: string): Claim | undefined;
  volume(name: string): Volume | undefined;
  storageClass(name: string): StorageClass | undefined;
}

interface State {
  /** PV node-affinity terms the node must match (one list per bound claim). */
  required: NodeSelectorTerm[][];
  /** Unbound WaitForFirstConsumer claims to annotate with the chosen node. */
  delayed: Claim[];
}

const key = 'VolumeBinding';

/**
 * Basic VolumeBinding: every PVC the pod mounts must exist; a bound PVC's
 * PersistentVolume node affinity (local volumes) must match the node; an
 * unbound PVC is fine only if its StorageClass waits for the first consumer,
 * and PreBind then records the chosen node on it (volume.kubernetes.io/selected-node)
 * for the provisioner.
 */
export function volumeBinding(
  listers: VolumeListers,
  client?: Client,
  opts: { bindTimeoutMs?: number; pollMs?: number } = {},
): Plugin {
  return {
    name: 'VolumeBinding',
    events: ['NodeAdd', 'VolumeChange'],
    preFilter(state: CycleState, pod: Pod): Status | undefined {
      const vols = (specOf(pod).volumes ?? []).filter((v) => v.persistentVolumeClaim);
      if (!vols.length) return undefined;
      const ns = pod.metadata.namespace ?? 'default';
      const st: State = { required: [], delayed: [] };
      for (const v of vols) {
        const name = v.persistentVolumeClaim!.claimName;
        const pvc = listers.claim(ns, name);
        if (!pvc) return unresolvable(`persistentvolumeclaim "${name}" not found`);
        if (pvc.metadata.deletionTimestamp)
          return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
        const pvName = pvc.spec?.volumeName;
        if (pvName) {
          const terms = listers.volume(pvName)?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
          if (terms?.length) st.required.push(terms);
          continue;
        }
        const sc = listers.storageClass(pvc.spec?.storageClassName ?? '');
        if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') return unresolvable(unboundImmediateReason);
        st.delayed.push(pvc);
      }
      state.set(key, st);
      return undefined;
    },
    filter(state: CycleState, _pod: Pod, node: NodeInfo): Status | undefined {
      const st = state.get(key) as State | undefined;
      if (!st?.required.length || !node.node) return undefined;
      const n = node.node;
      for (const terms of st.required)
        if (!terms.some((t) => matchesTerm(t, n))) return unresolvable(conflictReason);
      return undefined;
    },
    async preBind(state: CycleState, _pod: Pod, nodeName: string): Promise<void> {
      const st = state.get(key) as State | undefined;
      if (!client || !st?.delayed.length) return;
      for (const pvc of st.delayed) {
        if (pvc.metadata.annotations?.[selectedNodeAnnotation] === nodeName) continue;
        await client.patch(
          resources.persistentVolumeClaims,
          pvc.metadata.name ?? '',
          'merge',
          { metadata: { annotations: { [selectedNodeAnnotation]: nodeName } } },
          { namespace: pvc.metadata.namespace },
        );
      }
      // As upstream's PreBind: the pod is bound only once its claims are (the
      // provisioner and binder act on the annotation), so the node never starts
      // it against an unbound claim.
      const deadline = Date.now() + (opts.bindTimeoutMs ?? 60_000);
      for (const pvc of st.delayed) {
        const ns = pvc.metadata.namespace ?? 'default';
        const name = pvc.metadata.name ?? '';
        while (!listers.claim(ns, name)?.spec?.volumeName) {
          if (Date.now() > deadline)
            throw new UnavailableError(
              `binding volumes: persistentvolumeclaim "${name}" was not bound in time`,
            );
          await new Promise((r) => setTimeout(r, opts.pollMs ?? 25));
        }
      }
    },
  };
}
