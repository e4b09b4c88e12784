/**
 * Which PersistentVolume a claim binds to (upstream's findBestMatchForClaim):
 * same storage class and volume mode, every requested access mode, at least
 * the requested capacity, the claim's selector, no other claim in its
 * claimRef, and for a claim waiting for its first consumer a node affinity
 * the selected node satisfies. A volume pre-bound to the claim wins; otherwise
 * the smallest that fits.
 */
import { matchesLabels, type Requirement, selectorRequirements } from '../api/label-selector.ts';
import { parseQuantity } from '../api/quantity.ts';
import type { KubeObject, Node } from '../client/index.ts';

export interface ObjectRef {
  kind?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

export interface PersistentVolume extends KubeObject {
  spec?: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    storageClassName?: string;
    volumeMode?: string;
    claimRef?: ObjectRef;
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
    local?: { path: string };
    hostPath?: { path: string; type?: string };
    [k: string]: unknown;
  };
  status?: { phase?: string; message?: string; reason?: string };
}

export interface PersistentVolumeClaim extends KubeObject {
  spec?: {
    accessModes?: string[];
    resources?: { requests?: Record<string, string> };
    storageClassName?: string;
    volumeName?: string;
    volumeMode?: string;
    selector?: {
      matchLabels?: Record<string, string>;
      matchExpressions?: { key: string; operator: string; values?: string[] }[];
    };
  };
  status?: { phase?: string; capacity?: Record<string, string>; accessModes?: string[] };
}

export interface StorageClass extends KubeObject {
  provisioner?: string;
  reclaimPolicy?: 'Retain' | 'Delete';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  parameters?: Record<string, string>;
}

export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';
export const bindCompletedAnnotation = 'pv.kubernetes.io/bind-completed';
export const boundByControllerAnnotation = 'pv.kubernetes.io/bound-by-controller';
export const provisionedByAnnotation = 'pv.kubernetes.io/provisioned-by';
export const storageProvisionerAnnotation = 'volume.kubernetes.io/storage-provisioner';
export const betaStorageProvisionerAnnotation = 'volume.beta.kubernetes.io/storage-provisioner';

export const requestedBytes = (pvc: PersistentVolumeClaim): number =>
  parseQuantity(pvc.spec?.resources?.requests?.storage ?? '0');
export const capacityBytes = (pv: PersistentVolume): number =>
  parseQuantity(pv.spec?.capacity?.storage ?? '0');
export const classOf = (o: PersistentVolume | PersistentVolumeClaim): string =>
  o.spec?.storageClassName ?? '';

/** Whether `pv.spec.claimRef` names `pvc` (by uid when the ref has one). */
export function isPreBoundTo(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref?.name) return false;
  if (ref.name !== pvc.metadata.name || (ref.namespace ?? '') !== (pvc.metadata.namespace ?? ''))
    return false;
  return !ref.uid || ref.uid === pvc.metadata.uid;
}

/** A node selector term as label requirements (In, NotIn, Exists, DoesNotExist; metadata.name fields). */
function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const known = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
  if ([...exprs, ...fields].some((e) => !known.has(e.operator))) return false;
  const reqs: Requirement[] = selectorRequirements({ matchExpressions: exprs });
  if (!matchesLabels(reqs, node.metadata.labels ?? {})) return false;
  const fieldReqs = selectorRequirements({
    matchExpressions: fields.filter((f) => f.key === 'metadata.name'),
  });
  return matchesLabels(fieldReqs, { 'metadata.name': node.metadata.name ?? '' });
}

/** Whether the volume may be used on `node` (no affinity: anywhere). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms?.length) return true;
  return terms.some((t) => termMatches(t, node));
}

/**
 * The best volume for `pvc` among `volumes`, or undefined. `node` is the
 * selected node of a claim waiting for its first consumer (affinity checked).
 */
export function findBestMatch(
  pvc: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  node?: Node,
): PersistentVolume | undefined {
  const want = requestedBytes(pvc);
  const modes = pvc.spec?.accessModes ?? [];
  const selector = pvc.spec?.selector ? selectorRequirements(pvc.spec.selector) : [];
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata.deletionTimestamp) continue;
    const preBound = isPreBoundTo(pv, pvc);
    if (pv.spec?.claimRef?.name && !preBound) continue;
    if (!preBound && pv.status?.phase !== 'Available' && pv.status?.phase !== 'Pending') continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) continue;
    if (classOf(pv) !== classOf(pvc)) continue;
    if (!modes.every((m) => pv.spec?.accessModes?.includes(m))) continue;
    if (capacityBytes(pv) < want) continue;
    if (node && !volumeFitsNode(pv, node)) continue;
    if (preBound) return pv;
    if (selector.length > 0 && !matchesLabels(selector, pv.metadata.labels ?? {})) continue;
    if (!best || capacityBytes(pv) < capacityBytes(best)) best = pv;
  }
  return best;
}
