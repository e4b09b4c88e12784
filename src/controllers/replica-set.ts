import type { Requirement } from '../api/label-selector.ts';
import {
  type Condition,
  type Informer,
  keyOf,
  type Pod,
  type ReplicaSet,
  type Resource,
  resources,
  splitKey,
  type Workqueue,
} from '../client/index.ts';
import { describeError, NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, timestamp, updateStatusFresh } from './controller.ts';
import { EventRecorder } from './events.ts';
import { Expectations } from './expectations.ts';
import {
  byControllerUid,
  claim,
  controllerRef,
  newControllerRef,
  selectorOf,
  selects,
  selectsTemplate,
} from './owner-refs.ts';
import { isPodActive, isPodReady } from './pod-status.ts';
import {
  burstReplicas,
  podFromTemplate,
  podsToDelete,
  replicaStatus,
  slowStartBatch,
} from './replica-pods.ts';

/** The two kinds that keep N copies of a pod template. */
export interface ReplicaKind {
  name: string;
  resource: Resource;
  apiVersion: string;
  selector(rs: ReplicaSet): Requirement[] | undefined;
}

export const replicaSetKind: ReplicaKind = {
  name: 'replicaset',
  resource: resources.replicaSets,
  apiVersion: 'apps/v1',
  selector: (rs) => selectorOf(rs.spec?.selector),
};

/** ReplicationController: the same mechanism with a plain label map as selector. */
export const replicationControllerKind: ReplicaKind = {
  name: 'replicationcontroller',
  resource: resources.replicationControllers,
  apiVersion: 'v1',
  selector: (rc) => {
    const sel = rc.spec?.selector as Record<string, string> | undefined;
    return sel ? selectorOf({ matchLabels: sel }) : undefined;
  },
};

/** Pod index by the uid of its controller, shared by every controller that owns pods. */
export const podsByControllerUid: (p: Pod) => string[] = byControllerUid;

/**
 * Keeps `spec.replicas` pods of a ReplicaSet (or ReplicationController) alive:
 * adopts matching orphans, releases pods that stopped matching, creates and
 * deletes pods with expectations so a stale cache never double-creates, and
 * writes status (replicas, fullyLabeled, ready, available, observedGeneration).
 */
export class ReplicaSetController implements Controller {
  readonly name: string;
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 5;
  readonly #ctx: ControllerContext;
  readonly #kind: ReplicaKind;
  readonly #rs: Informer<ReplicaSet>;
  readonly #pods: Informer<Pod>;
  readonly #exp: Expectations;
  readonly #events: EventRecorder;
  readonly informers: Syncable[];

  constructor(ctx: ControllerContext, kind: ReplicaKind) {
    this.name = kind.name;
    this.#ctx = ctx;
    this.#kind = kind;
    this.queue = newQueue(ctx);
    this.#exp = new Expectations(ctx.clock);
    this.#events = EventRecorder.forController(ctx, `${kind.name}-controller`);
    this.#rs = ctx.informers.informerFor<ReplicaSet>(kind.resource);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { controllerUid: podsByControllerUid });
    this.informers = [this.#rs, this.#pods];
    this.#rs.addHandler({
      onAdd: (rs) => this.queue.add(keyOf(rs)),
      onUpdate: (_, rs) => this.queue.add(keyOf(rs)),
      onDelete: (rs) => {
        this.#exp.forget(keyOf(rs));
        this.queue.add(keyOf(rs));
      },
    });
    this.#pods.addHandler({
      onAdd: (p) => this.#podAdded(p),
      onUpdate: (old, p) => this.#podUpdated(old, p),
      onDelete: (p) => this.#podDeleted(p),
    });
  }

  /** The owner of `pod` in the cache, if its controller reference points to one of ours. */
  #owner(pod: Pod, ref = controllerRef(pod)): ReplicaSet | undefined {
    if (!ref || ref.kind !== this.#kind.resource.kind) return undefined;
    const rs = this.#rs.store.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  }

  #enqueueMatching(pod: Pod): void {
    for (const rs of this.#rs.store.byIndex('namespace', pod.metadata.namespace ?? '')) {
      const sel = this.#kind.selector(rs);
      if (sel && selects(sel, pod)) this.queue.add(keyOf(rs));
    }
  }

  #podAdded(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      this.#podDeleted(pod);
      return;
    }
    const ref = controllerRef(pod);
    if (ref) {
      const rs = this.#owner(pod, ref);
      if (!rs) return;
      this.#exp.creationObserved(keyOf(rs));
      this.queue.add(keyOf(rs));
      return;
    }
    this.#enqueueMatching(pod);
  }

  #podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      this.#podDeleted(pod);
      return;
    }
    const oldRef = controllerRef(old);
    const ref = controllerRef(pod);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.#owner(old, oldRef);
      if (prev) this.queue.add(keyOf(prev));
    }
    if (ref) {
      const rs = this.#owner(pod, ref);
      if (!rs) return;
      this.queue.add(keyOf(rs));
      const minReady = Number(rs.spec?.minReadySeconds ?? 0);
      // Becomes available minReadySeconds after it became ready: look again then.
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod))
        this.queue.addAfter(keyOf(rs), minReady * 1000);
      return;
    }
    if (oldRef || JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) {
      this.#enqueueMatching(pod);
    }
  }

  #podDeleted(pod: Pod): void {
    const rs = this.#owner(pod);
    if (!rs) return;
    this.#exp.deletionObserved(keyOf(rs), keyOf(pod));
    this.queue.add(keyOf(rs));
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.#rs.store.get(key);
    if (!cached) {
      this.#exp.forget(key);
      return;
    }
    const rs = cached;
    const selector = this.#kind.selector(rs);
    if (!selector || selector.length === 0) {
      this.#ctx.log.debug({ key }, 'skipping workload with an empty selector');
      return;
    }
    if (!selectsTemplate(selector, rs.spec?.template)) {
      // Pods from this template would never be counted: creating them would never end.
      this.#events.record(rs, 'Warning', 'SelectorMismatch', 'selector does not match template labels');
      this.#ctx.log.warn({ key }, 'selector does not match template labels; not managing pods');
      return;
    }
    const needsSync = this.#exp.satisfied(key);
    const { namespace } = splitKey(key);
    const candidates = this.#pods.store.byIndex('namespace', namespace).filter(isPodActive);
    const pods = await claim({
      client: this.#ctx.client,
      resource: resources.pods,
      owner: rs,
      ownerRef: newControllerRef(rs, this.#kind.apiVersion, this.#kind.resource.kind),
      selector,
      candidates,
      canAdopt: () => this.#canAdopt(rs),
    });
    let failure: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.#manageReplicas(key, rs, pods);
      } catch (err) {
        failure = err;
      }
    }
    await this.#updateStatus(rs, pods, failure);
    if (failure) throw failure;
  }

  async #canAdopt(rs: ReplicaSet): Promise<void> {
    const fresh = await this.#ctx.client.get<ReplicaSet>(this.#kind.resource, rs.metadata.name ?? '', {
      namespace: rs.metadata.namespace,
    });
    if (fresh.metadata.uid !== rs.metadata.uid)
      throw new NotFoundError(`adopting pods for ${keyOf(rs)}: original object is gone`);
    if (fresh.metadata.deletionTimestamp)
      throw new NotFoundError(`adopting pods for ${keyOf(rs)}: object is being deleted`);
  }

  async #manageReplicas(key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
    const want = Number(rs.spec?.replicas ?? 1);
    const diff = pods.length - want;
    const { client } = this.#ctx;
    if (diff < 0) {
      const n = Math.min(-diff, burstReplicas);
      this.#exp.expectCreations(key, n);
      const ref = newControllerRef(rs, this.#kind.apiVersion, this.#kind.resource.kind);
      const { ok, err } = await slowStartBatch(n, () =>
        client.create(resources.pods, podFromTemplate(rs, ref)),
      );
      // Creations that failed or were skipped will never be observed.
      for (let i = ok; i < n; i++) this.#exp.creationObserved(key);
      this.#ctx.log.debug({ key, created: ok, want }, 'created pods');
      if (err) throw err;
    } else if (diff > 0) {
      const victims = podsToDelete(pods, Math.min(diff, burstReplicas));
      this.#exp.expectDeletions(key, victims.map(keyOf));
      const results = await Promise.allSettled(
        victims.map((p) =>
          client.delete(resources.pods, p.metadata.name ?? '', { namespace: p.metadata.namespace }),
        ),
      );
      let firstErr: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        const victim = victims[i];
        if (victim) this.#exp.deletionObserved(key, keyOf(victim));
        if (!(r.reason instanceof NotFoundError)) firstErr ??= r.reason;
      });
      this.#ctx.log.debug({ key, deleted: victims.length, want }, 'deleted pods');
      if (firstErr) throw firstErr;
    }
  }

  async #updateStatus(rs: ReplicaSet, pods: Pod[], failure: unknown): Promise<void> {
    const now = this.#ctx.clock.now();
    const prev = ((rs.status?.conditions ?? []) as Condition[]).find((c) => c.type === 'ReplicaFailure');
    let cond: Condition | undefined;
    if (failure) {
      const message = describeError(failure);
      cond = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message };
      cond.lastTransitionTime = prev?.status === 'True' ? prev.lastTransitionTime : timestamp(now);
    }
    const next = replicaStatus(rs, pods, now, cond);
    const current = rs.status ?? {};
    const changed = Object.entries(next).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v));
    if (changed || (current.conditions && !next.conditions)) {
      const copy = structuredClone(rs) as ReplicaSet;
      copy.status = { ...next };
      await updateStatusFresh(this.#ctx.client, this.#kind.resource, copy);
    }
    const minReady = Number(rs.spec?.minReadySeconds ?? 0);
    if (minReady > 0 && next.readyReplicas !== next.availableReplicas) {
      this.queue.addAfter(keyOf(rs), minReady * 1000);
    }
  }
}

export const newReplicaSetController = (ctx: ControllerContext) =>
  new ReplicaSetController(ctx, replicaSetKind);
export const newReplicationControllerController = (ctx: ControllerContext) =>
  new ReplicaSetController(ctx, replicationControllerKind);
