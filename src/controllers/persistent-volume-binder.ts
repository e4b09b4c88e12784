import { type Informer, keyOf, type Node, resources, type Workqueue } from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, updateStatusFresh } from './controller.ts';
import { EventRecorder } from './events.ts';
import {
  betaStorageProvisionerAnnotation,
  bindCompletedAnnotation,
  boundByControllerAnnotation,
  classOf,
  findBestMatch,
  isPreBoundTo,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
  selectedNodeAnnotation,
  storageProvisionerAnnotation,
} from './persistent-volume-match.ts';

const claimKey = (ns: string, name: string) => `claim:${ns}/${name}`;
const volumeKey = (name: string) => `volume:${name}`;

/**
 * Binds PersistentVolumeClaims to PersistentVolumes (upstream's PV controller,
 * binding half): a claim gets the best matching volume (persistent-volume-match.ts),
 * written volume first (claimRef), then claim (volumeName, bind-completed);
 * claims of a WaitForFirstConsumer class wait for the scheduler's
 * selected-node annotation; a claim no volume fits is handed to its class's
 * provisioner (storage-provisioner annotation). Volumes go Available, Bound,
 * or Released when their claim is gone (Retain keeps them; Delete is the
 * provisioner's). Keys are `claim:<ns>/<name>` and `volume:<name>`.
 */
export class PersistentVolumeBinder implements Controller {
  readonly name = 'persistentvolume-binder';
  readonly queue: Workqueue<string>;
  readonly #ctx: ControllerContext;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #classes: Informer<StorageClass>;
  readonly #nodes: Informer<Node>;
  readonly #events: EventRecorder;
  /** The last event reason recorded per object uid (no repeats while nothing changes). */
  readonly #said = new Map<string, string>();
  readonly informers: Syncable[];

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'persistentvolume-controller');
    this.#claims = ctx.informers.informerFor<PersistentVolumeClaim>(resources.persistentVolumeClaims);
    this.#volumes = ctx.informers.informerFor<PersistentVolume>(resources.persistentVolumes);
    this.#classes = ctx.informers.informerFor<StorageClass>(resources.storageClasses);
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.informers = [this.#claims, this.#volumes, this.#classes, this.#nodes];
    const claimChanged = (c: PersistentVolumeClaim) => {
      this.queue.add(claimKey(c.metadata.namespace ?? '', c.metadata.name ?? ''));
      if (c.spec?.volumeName) this.queue.add(volumeKey(c.spec.volumeName));
    };
    this.#claims.addHandler({
      onAdd: claimChanged,
      onUpdate: (_, c) => claimChanged(c),
      onDelete: (c) => {
        this.#said.delete(c.metadata.uid ?? '');
        claimChanged(c);
      },
    });
    const volumeChanged = (v: PersistentVolume) => {
      this.queue.add(volumeKey(v.metadata.name ?? ''));
      const ref = v.spec?.claimRef;
      if (ref?.name) this.queue.add(claimKey(ref.namespace ?? '', ref.name));
      // A volume that became available may fit a waiting claim.
      if (!ref?.name) this.#enqueueUnbound((c) => classOf(c) === classOf(v));
    };
    this.#volumes.addHandler({
      onAdd: volumeChanged,
      onUpdate: (_, v) => volumeChanged(v),
      onDelete: (v) => {
        this.#said.delete(v.metadata.uid ?? '');
        volumeChanged(v);
      },
    });
    const classChanged = (sc: StorageClass) => this.#enqueueUnbound((c) => classOf(c) === sc.metadata.name);
    this.#classes.addHandler({ onAdd: classChanged, onUpdate: (_, sc) => classChanged(sc) });
  }

  #enqueueUnbound(match: (c: PersistentVolumeClaim) => boolean): void {
    for (const c of this.#claims.store.list())
      if (!c.spec?.volumeName && match(c))
        this.queue.add(claimKey(c.metadata.namespace ?? '', c.metadata.name ?? ''));
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith('claim:')) await this.#syncClaim(key.slice('claim:'.length));
    else if (key.startsWith('volume:')) await this.#syncVolume(key.slice('volume:'.length));
  }

  #say(
    obj: PersistentVolumeClaim | PersistentVolume,
    type: 'Normal' | 'Warning',
    reason: string,
    msg: string,
  ): void {
    const uid = obj.metadata.uid ?? '';
    if (this.#said.get(uid) === reason) return;
    this.#said.set(uid, reason);
    this.#events.record(obj, type, reason, msg);
  }

  async #syncClaim(key: string): Promise<void> {
    const pvc = this.#claims.store.get(key);
    if (!pvc || pvc.metadata.deletionTimestamp) return;
    const volumeName = pvc.spec?.volumeName;
    if (!volumeName) return this.#bindUnbound(pvc);
    const pv = this.#volumes.store.get(volumeName);
    if (!pv) {
      if (pvc.status?.phase === 'Bound') {
        this.#say(
          pvc,
          'Warning',
          'ClaimLost',
          'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
        );
        await this.#claimPhase(pvc, 'Lost');
      }
      return;
    }
    if (!pv.spec?.claimRef?.name || isPreBoundTo(pv, pvc)) {
      await this.#bind(pv, pvc);
      return;
    }
    this.#say(
      pvc,
      'Warning',
      'ClaimMisbound',
      'Two claims are bound to the same volume, this one is bound incorrectly',
    );
    await this.#claimPhase(pvc, 'Lost');
  }

  async #bindUnbound(pvc: PersistentVolumeClaim): Promise<void> {
    const className = classOf(pvc);
    const sc = className ? this.#classes.store.get(className) : undefined;
    const nodeName = pvc.metadata.annotations?.[selectedNodeAnnotation];
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !nodeName) {
      this.#say(
        pvc,
        'Normal',
        'WaitForFirstConsumer',
        'waiting for first consumer to be created before binding',
      );
      return;
    }
    const node = nodeName
      ? (this.#nodes.store.get(nodeName) ?? {
          metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
        })
      : undefined;
    const pv = findBestMatch(pvc, this.#volumes.store.list(), node);
    if (pv) {
      await this.#bind(pv, pvc);
      return;
    }
    if (sc?.provisioner) {
      const ann = pvc.metadata.annotations ?? {};
      if (ann[storageProvisionerAnnotation] !== sc.provisioner) {
        await this.#ctx.client.patch(
          resources.persistentVolumeClaims,
          pvc.metadata.name ?? '',
          'merge',
          {
            metadata: {
              annotations: {
                [storageProvisionerAnnotation]: sc.provisioner,
                [betaStorageProvisionerAnnotation]: sc.provisioner,
              },
            },
          },
          { namespace: pvc.metadata.namespace },
        );
      }
      this.#say(
        pvc,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return;
    }
    const msg = className
      ? `storageclass.storage.k8s.io "${className}" not found`
      : 'no persistent volumes available for this claim and no storage class is set';
    this.#say(pvc, className && !sc ? 'Warning' : 'Normal', 'FailedBinding', msg);
  }

  /** Binds volume then claim; each write is skipped when already done, so a retry finishes a half bind. */
  async #bind(pv: PersistentVolume, pvc: PersistentVolumeClaim): Promise<void> {
    const { client } = this.#ctx;
    let volume = pv;
    const ref = pv.spec?.claimRef;
    if (ref?.uid !== pvc.metadata.uid) {
      const copy = structuredClone(pv) as PersistentVolume;
      copy.spec = {
        ...copy.spec,
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: pvc.metadata.namespace,
          name: pvc.metadata.name,
          uid: pvc.metadata.uid,
          resourceVersion: pvc.metadata.resourceVersion,
        },
      };
      // A volume the user pre-bound keeps saying so (upstream drops the annotation only for its own binds).
      if (!ref?.name)
        copy.metadata.annotations = { ...copy.metadata.annotations, [boundByControllerAnnotation]: 'yes' };
      volume = await client.update(resources.persistentVolumes, copy);
    }
    if (volume.status?.phase !== 'Bound') {
      volume = await updateStatusFresh(client, resources.persistentVolumes, {
        ...structuredClone(volume),
        status: { phase: 'Bound' },
      });
    }
    let claim = pvc;
    const ann = pvc.metadata.annotations ?? {};
    if (pvc.spec?.volumeName !== pv.metadata.name || ann[bindCompletedAnnotation] !== 'yes') {
      const copy = structuredClone(pvc) as PersistentVolumeClaim;
      const annotations: Record<string, string> = {
        ...copy.metadata.annotations,
        [bindCompletedAnnotation]: 'yes',
      };
      if (!pvc.spec?.volumeName) annotations[boundByControllerAnnotation] = 'yes';
      copy.metadata.annotations = annotations;
      copy.spec = { ...copy.spec, volumeName: pv.metadata.name };
      claim = await client.update(resources.persistentVolumeClaims, copy);
      this.#ctx.log.debug({ claim: keyOf(pvc), volume: pv.metadata.name }, 'claim bound');
    }
    const status = {
      phase: 'Bound',
      accessModes: volume.spec?.accessModes ?? [],
      capacity: { ...(volume.spec?.capacity ?? {}) },
    };
    if (JSON.stringify(claim.status) !== JSON.stringify(status)) {
      await updateStatusFresh(client, resources.persistentVolumeClaims, {
        ...structuredClone(claim),
        status,
      });
    }
  }

  async #claimPhase(pvc: PersistentVolumeClaim, phase: string): Promise<void> {
    if (pvc.status?.phase === phase) return;
    const copy = structuredClone(pvc) as PersistentVolumeClaim;
    copy.status = { ...copy.status, phase };
    await updateStatusFresh(this.#ctx.client, resources.persistentVolumeClaims, copy);
  }

  async #volumePhase(pv: PersistentVolume, phase: string, message?: string): Promise<void> {
    if (pv.status?.phase === phase) return;
    const copy = structuredClone(pv) as PersistentVolume;
    copy.status = message ? { phase, message } : { phase };
    await updateStatusFresh(this.#ctx.client, resources.persistentVolumes, copy);
  }

  async #syncVolume(name: string): Promise<void> {
    const pv = this.#volumes.store.get(name);
    if (!pv || pv.metadata.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    if (!ref?.name || !ref.uid) {
      // Unclaimed, or pre-bound to a claim that has not bound yet.
      if (pv.status?.phase === 'Released' && ref?.name) return;
      await this.#volumePhase(pv, 'Available');
      return;
    }
    const pvc = await this.#liveClaim(ref.namespace ?? '', ref.name, ref.uid);
    if (!pvc) {
      if (pv.status?.phase === 'Failed') return;
      if (pv.spec?.persistentVolumeReclaimPolicy === 'Recycle') {
        this.#say(pv, 'Warning', 'VolumeFailedRecycle', 'recycling is not supported');
        await this.#volumePhase(pv, 'Failed', 'recycling is not supported');
        return;
      }
      await this.#volumePhase(pv, 'Released');
      return;
    }
    if (pvc.spec?.volumeName === name) {
      await this.#volumePhase(pv, 'Bound');
      return;
    }
    if (!pvc.spec?.volumeName) {
      this.queue.add(claimKey(ref.namespace ?? '', ref.name));
      return;
    }
    // The claim bound another volume: give back ours if we took it for the claim.
    if (pv.metadata.annotations?.[boundByControllerAnnotation] === 'yes') {
      const copy = structuredClone(pv) as PersistentVolume;
      if (copy.spec) delete copy.spec.claimRef;
      delete copy.metadata.annotations?.[boundByControllerAnnotation];
      const updated = await this.#ctx.client.update(resources.persistentVolumes, copy);
      await this.#volumePhase(updated, 'Available');
    } else await this.#volumePhase(pv, 'Released');
  }

  /** The claim `ref` names, read from the server when the cache does not have it (it may lag). */
  async #liveClaim(ns: string, name: string, uid: string): Promise<PersistentVolumeClaim | undefined> {
    const cached = this.#claims.store.get(`${ns}/${name}`);
    if (cached?.metadata.uid === uid) return cached;
    try {
      const live = await this.#ctx.client.get<PersistentVolumeClaim>(resources.persistentVolumeClaims, name, {
        namespace: ns,
      });
      return live.metadata.uid === uid ? live : undefined;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }
}

export const newPersistentVolumeBinder = (ctx: ControllerContext) => new PersistentVolumeBinder(ctx);
