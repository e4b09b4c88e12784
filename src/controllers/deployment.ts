import {
  type Deployment,
  type Informer,
  keyOf,
  type Pod,
  type ReplicaSet,
  resources,
  splitKey,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, updateStatusFresh } from './controller.ts';
import { rollout } from './deployment-strategies.ts';
import { DeploymentSync } from './deployment-sync.ts';
import { EventRecorder } from './events.ts';
import {
  claim,
  controllerRef,
  newControllerRef,
  selectorOf,
  selects,
  selectsTemplate,
} from './owner-refs.ts';
import { podsByControllerUid } from './replica-set.ts';

/**
 * Rolls Deployments out through ReplicaSets, as upstream's deployment
 * controller: one ReplicaSet per pod template (named `<deploy>-<hash>`,
 * labelled pod-template-hash), RollingUpdate within maxSurge/maxUnavailable or
 * Recreate, proportional scaling, pause, revisions (a template that matches an
 * old ReplicaSet re-uses it with the next revision: `kubectl rollout undo`),
 * revisionHistoryLimit, and the Available/Progressing conditions.
 */
export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 5;
  readonly #ctx: ControllerContext;
  readonly #deploys: Informer<Deployment>;
  readonly #rss: Informer<ReplicaSet>;
  readonly #pods: Informer<Pod>;
  readonly #events: EventRecorder;
  readonly informers: Syncable[];

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'deployment-controller');
    this.#deploys = ctx.informers.informerFor<Deployment>(resources.deployments);
    this.#rss = ctx.informers.informerFor<ReplicaSet>(resources.replicaSets);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { controllerUid: podsByControllerUid });
    this.informers = [this.#deploys, this.#rss, this.#pods];
    const enqueue = (d: Deployment) => this.queue.add(keyOf(d));
    this.#deploys.addHandler({ onAdd: enqueue, onUpdate: (_, d) => enqueue(d), onDelete: enqueue });
    this.#rss.addHandler({
      onAdd: (rs) => this.#rsChanged(undefined, rs),
      onUpdate: (old, rs) => this.#rsChanged(old, rs),
      onDelete: (rs) => this.#rsChanged(undefined, rs),
    });
    this.#pods.addHandler({ onDelete: (p) => this.#podDeleted(p) });
  }

  #owner(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerRef(rs);
    if (ref?.kind !== 'Deployment') return undefined;
    const d = this.#deploys.store.get(`${rs.metadata.namespace ?? ''}/${ref.name}`);
    return d?.metadata.uid === ref.uid ? d : undefined;
  }

  #rsChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const prev = old && this.#owner(old);
    if (prev) this.queue.add(keyOf(prev));
    const d = this.#owner(rs);
    if (d) {
      this.queue.add(keyOf(d));
      return;
    }
    if (controllerRef(rs)) return;
    // An orphan: the deployments that may adopt it.
    for (const cand of this.#deploys.store.byIndex('namespace', rs.metadata.namespace ?? '')) {
      const sel = selectorOf(cand.spec?.selector);
      if (sel && selects(sel, rs)) this.queue.add(keyOf(cand));
    }
  }

  #podDeleted(pod: Pod): void {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.#rss.store.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    const d = rs && this.#owner(rs);
    // Recreate waits for old pods to be gone before it scales the new ReplicaSet up.
    if (d && (d.spec?.strategy as { type?: string } | undefined)?.type === 'Recreate')
      this.queue.add(keyOf(d));
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.#deploys.store.get(key);
    if (!cached) return;
    const d = structuredClone(cached) as Deployment;
    const sel = selectorOf(d.spec?.selector);
    if (!sel || sel.length === 0) {
      // Selecting everything is refused by validation; never act on it.
      if (Number(d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await this.#writeStatus(d, { ...d.status, observedGeneration: d.metadata.generation });
      }
      return;
    }
    if (!selectsTemplate(sel, d.spec?.template)) {
      this.#events.record(d, 'Warning', 'SelectorMismatch', 'selector does not match template labels');
      this.#ctx.log.warn({ key }, 'selector does not match template labels; not rolling out');
      return;
    }
    const { namespace } = splitKey(key);
    const rsList = await claim({
      client: this.#ctx.client,
      resource: resources.replicaSets,
      owner: d,
      ownerRef: newControllerRef(d, 'apps/v1', 'Deployment'),
      selector: sel,
      candidates: this.#rss.store.byIndex('namespace', namespace),
      canAdopt: async () => {
        const fresh = await this.#ctx.client.get<Deployment>(resources.deployments, d.metadata.name ?? '', {
          namespace,
        });
        if (fresh.metadata.uid !== d.metadata.uid || fresh.metadata.deletionTimestamp)
          throw new NotFoundError(`adopting replicasets for ${key}: deployment is gone or being deleted`);
      },
    });
    const sync = new DeploymentSync(this, d, rsList);
    if (d.metadata.deletionTimestamp) return sync.statusOnly();
    await sync.checkPaused();
    if (d.spec?.paused || sync.isScalingEvent()) return sync.scaleAndCleanUp();
    return rollout(sync);
  }

  /** Writes status; returns the stored deployment. */
  async #writeStatus(d: Deployment, status: Record<string, unknown>): Promise<Deployment> {
    return updateStatusFresh(this.#ctx.client, resources.deployments, { ...d, status });
  }

  /** Internal surface for DeploymentSync. */
  get ctx(): ControllerContext {
    return this.#ctx;
  }
  get events(): EventRecorder {
    return this.#events;
  }
  podsOf(rs: ReplicaSet): Pod[] {
    return this.#pods.store.byIndex('controllerUid', rs.metadata.uid ?? '');
  }
}

export const newDeploymentController = (ctx: ControllerContext) => new DeploymentController(ctx);
