import type { Requirement } from '../api/label-selector.ts';
import { matchesLabels } from '../api/label-selector.ts';
import {
  type Condition,
  type Informer,
  type KubeObject,
  keyOf,
  type Pod,
  resources,
  type Workload,
  type Workqueue,
} from '../client/index.ts';
import { describeError, NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, timestamp } from './controller.ts';
import { scaledValue } from './deployment-util.ts';
import { EventRecorder } from './events.ts';
import { controllerRef, selectorOf } from './owner-refs.ts';
import { isPodReady } from './pod-status.ts';

/** How long an eviction may take before the budget counts the pod healthy again (upstream's DeletionTimeout). */
export const deletionTimeoutMs = 2 * 60_000;

export interface PodDisruptionBudget extends KubeObject {
  spec?: { minAvailable?: number | string; maxUnavailable?: number | string; selector?: unknown };
  status?: {
    currentHealthy?: number;
    desiredHealthy?: number;
    disruptionsAllowed?: number;
    expectedPods?: number;
    observedGeneration?: number;
    disruptedPods?: Record<string, string>;
    conditions?: Condition[];
  };
}

/** policy/v1: an empty selector selects every pod of the namespace, an absent one none. */
function selectsPod(sel: Requirement[] | undefined, pod: Pod): boolean {
  return sel !== undefined && matchesLabels(sel, pod.metadata.labels);
}

/**
 * Upstream's disruption controller: keeps a PodDisruptionBudget's status —
 * expectedPods, desiredHealthy (minAvailable, or expected minus
 * maxUnavailable; percentages of the pods' controllers' scale, rounded up),
 * currentHealthy (Ready pods not being deleted and not just evicted),
 * disruptionsAllowed, the evictions not yet seen through (disruptedPods,
 * dropped after 2 min) and the DisruptionAllowed condition. The eviction
 * subresource reads and decrements what it writes.
 */
export class DisruptionController implements Controller {
  readonly name = 'disruption';
  readonly queue: Workqueue<string>;
  readonly workers = 2;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #pdbs: Informer<PodDisruptionBudget>;
  readonly #pods: Informer<Pod>;
  readonly #owners: Map<string, Informer<Workload>>;
  readonly #events: EventRecorder;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'controllermanager');
    this.#pdbs = ctx.informers.informerFor<PodDisruptionBudget>(resources.podDisruptionBudgets);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.#owners = new Map([
      ['ReplicationController', ctx.informers.informerFor<Workload>(resources.replicationControllers)],
      ['ReplicaSet', ctx.informers.informerFor<Workload>(resources.replicaSets)],
      ['Deployment', ctx.informers.informerFor<Workload>(resources.deployments)],
      ['StatefulSet', ctx.informers.informerFor<Workload>(resources.statefulSets)],
    ]);
    this.informers = [this.#pdbs, this.#pods, ...this.#owners.values()];
    this.#pdbs.addHandler({
      onAdd: (b) => this.queue.add(keyOf(b)),
      onUpdate: (_, b) => this.queue.add(keyOf(b)),
    });
    const podChanged = (p: Pod) => {
      for (const b of this.#pdbs.store.byIndex('namespace', p.metadata.namespace ?? '')) {
        if (selectsPod(selectorOf(b.spec?.selector), p)) this.queue.add(keyOf(b));
      }
    };
    this.#pods.addHandler({
      onAdd: podChanged,
      onUpdate: (old, p) => {
        podChanged(p);
        if (JSON.stringify(old.metadata.labels) !== JSON.stringify(p.metadata.labels)) podChanged(old);
      },
      onDelete: podChanged,
    });
  }

  /** The scale of the controller owning `pod` (a ReplicaSet counts as its Deployment). */
  #ownerScale(pod: Pod): { key: string; replicas: number } | undefined {
    const ns = pod.metadata.namespace ?? '';
    let ref = controllerRef(pod);
    let owner: Workload | undefined;
    for (let depth = 0; ref && depth < 2; depth++) {
      const inf = this.#owners.get(ref.kind);
      const found = inf?.store.get(`${ns}/${ref.name}`);
      if (!found || found.metadata.uid !== ref.uid) break;
      owner = found;
      const up = controllerRef(found);
      if (ref.kind !== 'ReplicaSet' || up?.kind !== 'Deployment') break;
      ref = up;
    }
    if (!owner) return undefined;
    return {
      key: `${owner.kind ?? ''}/${owner.metadata.uid ?? ''}`,
      replicas: Number(owner.spec?.replicas ?? 1),
    };
  }

  /** Sum of the scales of the pods' controllers; pods without a controller are unmanaged. */
  #expectedScale(pods: Pod[]): { expected: number; unmanaged: number } {
    const seen = new Set<string>();
    let expected = 0;
    let unmanaged = 0;
    for (const p of pods) {
      const ref = controllerRef(p);
      if (!ref) {
        unmanaged++;
        continue;
      }
      const scale = this.#ownerScale(p);
      if (!scale) throw new NotFoundError(`found no controllers for pod "${p.metadata.name ?? ''}"`);
      if (seen.has(scale.key)) continue;
      seen.add(scale.key);
      expected += scale.replicas;
    }
    return { expected, unmanaged };
  }

  async reconcile(key: string): Promise<void> {
    const pdb = this.#pdbs.store.get(key);
    if (!pdb) return;
    const selector = selectorOf(pdb.spec?.selector);
    const pods = this.#pods.store
      .byIndex('namespace', pdb.metadata.namespace ?? '')
      .filter((p) => selectsPod(selector, p));
    const spec = pdb.spec ?? {};
    let expected: number;
    let desired: number;
    try {
      if (spec.maxUnavailable !== undefined) {
        expected = this.#expectedScale(pods).expected;
        desired = Math.max(0, expected - scaledValue(spec.maxUnavailable, expected, true));
      } else if (typeof spec.minAvailable === 'string') {
        expected = this.#expectedScale(pods).expected;
        desired = scaledValue(spec.minAvailable, expected, true);
      } else {
        expected = pods.length;
        desired = Number(spec.minAvailable ?? 0);
      }
    } catch (err) {
      const message = describeError(err);
      this.#events.record(
        pdb,
        'Warning',
        'CalculateExpectedPodCountFailed',
        `Failed to calculate the number of expected pods: ${message}`,
      );
      await this.#writeStatus(pdb, { ...pdb.status, disruptionsAllowed: 0 }, 'SyncFailed', message);
      throw err;
    }
    const now = this.#ctx.clock.now();
    const disrupted: Record<string, string> = {};
    let recheck: number | undefined;
    for (const p of pods) {
      const name = p.metadata.name ?? '';
      const at = pdb.status?.disruptedPods?.[name];
      if (p.metadata.deletionTimestamp || !at) continue;
      const due = Date.parse(at) + deletionTimeoutMs;
      if (due < now) continue;
      disrupted[name] = at;
      recheck = recheck === undefined ? due : Math.min(recheck, due);
    }
    const healthy = pods.filter(
      (p) => !p.metadata.deletionTimestamp && !disrupted[p.metadata.name ?? ''] && isPodReady(p),
    ).length;
    const allowed = expected > 0 ? Math.max(0, healthy - desired) : 0;
    const status: NonNullable<PodDisruptionBudget['status']> = {
      ...pdb.status,
      currentHealthy: healthy,
      desiredHealthy: desired,
      disruptionsAllowed: allowed,
      expectedPods: expected,
      observedGeneration: pdb.metadata.generation ?? 0,
    };
    if (Object.keys(disrupted).length > 0) status.disruptedPods = disrupted;
    else delete status.disruptedPods;
    await this.#writeStatus(pdb, status, allowed > 0 ? 'SufficientPods' : 'InsufficientPods', '');
    if (recheck !== undefined) this.queue.addAfter(key, recheck - now + 1);
  }

  async #writeStatus(
    pdb: PodDisruptionBudget,
    status: NonNullable<PodDisruptionBudget['status']>,
    reason: string,
    message: string,
  ): Promise<void> {
    const allowed = (status.disruptionsAllowed ?? 0) > 0 && reason !== 'SyncFailed';
    const prev = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const state = allowed ? 'True' : 'False';
    const cond: Condition = {
      type: 'DisruptionAllowed',
      status: state,
      reason,
      message,
      observedGeneration: status.observedGeneration ?? pdb.metadata.generation ?? 0,
      lastTransitionTime:
        prev?.status === state && prev.lastTransitionTime
          ? prev.lastTransitionTime
          : timestamp(this.#ctx.clock.now()),
    };
    const others = (pdb.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
    const next = { ...status, conditions: [...others, cond] };
    if (canonicalJsonOf(next) === canonicalJsonOf(pdb.status ?? {})) return;
    const copy = structuredClone(pdb) as PodDisruptionBudget;
    copy.status = next;
    // Not updateStatusFresh: on a conflict the eviction subresource may have just
    // recorded a disruption; the sync must run again on what it wrote.
    await this.#ctx.client.updateStatus(resources.podDisruptionBudgets, copy);
  }
}

export const newDisruptionController = (ctx: ControllerContext) => new DisruptionController(ctx);
