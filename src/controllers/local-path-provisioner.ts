import { type Informer, keyOf, type Node, resources, type Workqueue } from '../client/index.ts';
import { AlreadyExistsError, NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue } from './controller.ts';
import { EventRecorder } from './events.ts';
import {
  classOf,
  type PersistentVolume,
  type PersistentVolumeClaim,
  provisionedByAnnotation,
  type StorageClass,
  selectedNodeAnnotation,
  storageProvisionerAnnotation,
} from './persistent-volume-match.ts';

/** The provisioner name the built-in `local-path` StorageClass names. */
export const localPathProvisioner = 'drover.io/local-path';
/** Where volumes go on a node unless the class's `nodePath` parameter says otherwise. */
export const defaultNodePath = '/var/lib/drover/storage';
/** Held by a provisioned volume until its node has removed the directory (local-path-cleaner.ts). */
export const cleanupFinalizer = 'drover.io/local-path-cleanup';
/** On a volume: the node whose disk holds it. */
export const nodeAnnotation = 'drover.io/local-path-node';
/** On a Node: where it keeps local-path volumes (written by the node, local-path-cleaner.ts). */
export const nodeDirAnnotation = 'drover.io/local-path-dir';

/**
 * The built-in dynamic provisioner for StorageClasses with provisioner
 * `drover.io/local-path` (what Rancher's local-path-provisioner does for k3s):
 * a claim handed to it (the binder's storage-provisioner annotation) whose
 * first consumer was scheduled (selected-node) gets a `local` PersistentVolume
 * `pvc-<uid>` at `<dir>/pvc-<uid>_<ns>_<name>` with node affinity to that
 * node (`<dir>`: the node's drover.io/local-path-dir annotation, else the
 * class's `nodePath` parameter, else /var/lib/drover/storage), pre-bound to the claim (the binder completes the bind; the agent makes
 * the directory when it mounts it). A Released volume with reclaim policy
 * Delete is deleted; its finalizer stays until the node removed the directory.
 */
export class LocalPathProvisioner implements Controller {
  readonly name = 'local-path-provisioner';
  readonly queue: Workqueue<string>;
  readonly #ctx: ControllerContext;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #classes: Informer<StorageClass>;
  readonly #nodes: Informer<Node>;
  readonly #events: EventRecorder;
  readonly informers: Syncable[];

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, `${localPathProvisioner}_provisioner`);
    this.#claims = ctx.informers.informerFor<PersistentVolumeClaim>(resources.persistentVolumeClaims);
    this.#volumes = ctx.informers.informerFor<PersistentVolume>(resources.persistentVolumes);
    this.#classes = ctx.informers.informerFor<StorageClass>(resources.storageClasses);
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.informers = [this.#claims, this.#volumes, this.#classes, this.#nodes];
    const claim = (c: PersistentVolumeClaim) => this.queue.add(`claim:${keyOf(c)}`);
    this.#claims.addHandler({ onAdd: claim, onUpdate: (_, c) => claim(c) });
    const volume = (v: PersistentVolume) => this.queue.add(`volume:${v.metadata.name ?? ''}`);
    this.#volumes.addHandler({ onAdd: volume, onUpdate: (_, v) => volume(v) });
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith('claim:')) await this.#provision(key.slice('claim:'.length));
    else if (key.startsWith('volume:')) await this.#reclaim(key.slice('volume:'.length));
  }

  #ours(className: string): StorageClass | undefined {
    const sc = className ? this.#classes.store.get(className) : undefined;
    return sc?.provisioner === localPathProvisioner ? sc : undefined;
  }

  async #provision(key: string): Promise<void> {
    const pvc = this.#claims.store.get(key);
    if (!pvc || pvc.metadata.deletionTimestamp || pvc.spec?.volumeName) return;
    const sc = this.#ours(classOf(pvc));
    const ann = pvc.metadata.annotations ?? {};
    if (!sc || ann[storageProvisionerAnnotation] !== localPathProvisioner) return;
    const node = ann[selectedNodeAnnotation];
    if (!node) {
      this.#events.record(
        pvc,
        'Warning',
        'ProvisioningFailed',
        'local-path volumes live on one node: use a StorageClass with volumeBindingMode WaitForFirstConsumer',
      );
      return;
    }
    const name = `pvc-${pvc.metadata.uid ?? ''}`;
    if (this.#volumes.store.get(name)) return;
    const base =
      this.#nodes.store.get(node)?.metadata.annotations?.[nodeDirAnnotation] ??
      sc.parameters?.nodePath ??
      defaultNodePath;
    const pv = localVolume({ pvc, sc, node, name, base });
    this.#events.record(
      pvc,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${key}"`,
    );
    try {
      await this.#ctx.client.create(resources.persistentVolumes, pv);
    } catch (err) {
      if (err instanceof AlreadyExistsError) return;
      this.#events.record(pvc, 'Warning', 'ProvisioningFailed', `failed to provision volume: ${String(err)}`);
      throw err;
    }
    this.#events.record(pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
    this.#ctx.log.debug({ claim: key, volume: name, node }, 'volume provisioned');
  }

  async #reclaim(name: string): Promise<void> {
    const pv = this.#volumes.store.get(name);
    if (!pv || pv.metadata.deletionTimestamp) return;
    if (pv.metadata.annotations?.[provisionedByAnnotation] !== localPathProvisioner) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    try {
      await this.#ctx.client.delete(resources.persistentVolumes, name, {
        preconditions: { uid: pv.metadata.uid },
      });
      this.#ctx.log.debug({ volume: name }, 'released volume deleted');
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

/** The PersistentVolume for `pvc` on `node`. */
export function localVolume(o: {
  pvc: PersistentVolumeClaim;
  sc: StorageClass;
  node: string;
  name: string;
  /** The node's volume directory. */
  base: string;
}): PersistentVolume {
  const { pvc, sc, node, name } = o;
  const base = o.base.replace(/\/+$/, '');
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: { [provisionedByAnnotation]: localPathProvisioner, [nodeAnnotation]: node },
      finalizers: [cleanupFinalizer],
    },
    spec: {
      capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '0' },
      accessModes: [...(pvc.spec?.accessModes ?? ['ReadWriteOnce'])],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
      local: { path: `${base}/${name}_${pvc.metadata.namespace ?? ''}_${pvc.metadata.name ?? ''}` },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      },
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: pvc.metadata.namespace,
        name: pvc.metadata.name,
        uid: pvc.metadata.uid,
        resourceVersion: pvc.metadata.resourceVersion,
      },
    },
  };
}

export const newLocalPathProvisioner = (ctx: ControllerContext) => new LocalPathProvisioner(ctx);
