import {
  type Informer,
  type KubeObject,
  keyOf,
  type Pod,
  resources,
  type StatefulSet,
  splitKey,
  type Workqueue,
} from '../client/index.ts';
import { AlreadyExistsError, NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, updateStatusFresh } from './controller.ts';
import {
  byRevision,
  type ControllerRevision,
  equalRevisions,
  newRevision,
  nextRevisionNumber,
  revisionsToPrune,
  templateOfRevision,
} from './controller-revision.ts';
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
import { type Claim, ordinalOf, revisionOfPod } from './statefulset-pods.ts';
import { type SetStatus, syncStatefulSet } from './statefulset-sync.ts';

const kind = 'StatefulSet';
const apiVersion = 'apps/v1';

/**
 * Keeps StatefulSets' ordered, stably named pods and their claims (upstream's
 * StatefulSet controller): adopts pods and ControllerRevisions, records the
 * template as revisions (currentRevision/updateRevision, re-using an equal
 * old revision on `kubectl rollout undo`), runs one sync (statefulset-sync.ts),
 * writes status and prunes history beyond revisionHistoryLimit.
 */
export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 5;
  readonly #ctx: ControllerContext;
  readonly #sets: Informer<StatefulSet>;
  readonly #pods: Informer<Pod>;
  readonly #revisions: Informer<ControllerRevision>;
  readonly #claims: Informer<Claim>;
  readonly #events: EventRecorder;
  readonly informers: Syncable[];

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'statefulset-controller');
    this.#sets = ctx.informers.informerFor<StatefulSet>(resources.statefulSets);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { controllerUid: podsByControllerUid });
    this.#revisions = ctx.informers.informerFor<ControllerRevision>(resources.controllerRevisions);
    this.#claims = ctx.informers.informerFor<Claim>(resources.persistentVolumeClaims);
    this.informers = [this.#sets, this.#pods, this.#revisions, this.#claims];
    const enqueue = (s: StatefulSet) => this.queue.add(keyOf(s));
    this.#sets.addHandler({ onAdd: enqueue, onUpdate: (_, s) => enqueue(s), onDelete: enqueue });
    const dependent = (old: KubeObject | undefined, o: KubeObject) => {
      if (old && old.metadata.resourceVersion === o.metadata.resourceVersion) return;
      if (old) this.#enqueueOwner(old);
      this.#enqueueOwner(o);
    };
    this.#pods.addHandler({
      onAdd: (p) => dependent(undefined, p),
      onUpdate: (old, p) => dependent(old, p),
      onDelete: (p) => dependent(undefined, p),
    });
    this.#revisions.addHandler({
      onAdd: (r) => dependent(undefined, r),
      onDelete: (r) => dependent(undefined, r),
    });
  }

  /** Enqueues the set controlling `o`, or for an orphan every set whose selector matches it. */
  #enqueueOwner(o: KubeObject): void {
    const ref = controllerRef(o);
    const ns = o.metadata.namespace ?? '';
    if (ref) {
      if (ref.kind !== kind) return;
      const set = this.#sets.store.get(`${ns}/${ref.name}`);
      if (set?.metadata.uid === ref.uid) this.queue.add(keyOf(set));
      return;
    }
    for (const set of this.#sets.store.byIndex('namespace', ns)) {
      const sel = selectorOf(set.spec?.selector);
      if (sel && selects(sel, o)) this.queue.add(keyOf(set));
    }
  }

  async reconcile(key: string): Promise<void> {
    const set = this.#sets.store.get(key);
    if (!set) return;
    const selector = selectorOf(set.spec?.selector);
    if (!selector || selector.length === 0) return;
    if (!selectsTemplate(selector, set.spec?.template)) {
      // Pods from this template would never be counted: creating them would never end.
      this.#events.record(set, 'Warning', 'SelectorMismatch', 'selector does not match template labels');
      return;
    }
    const { namespace } = splitKey(key);
    const claimOpts = {
      client: this.#ctx.client,
      owner: set,
      ownerRef: newControllerRef(set, apiVersion, kind),
      selector,
      canAdopt: () => this.#canAdopt(set),
    };
    const revisions = await claim({
      ...claimOpts,
      resource: resources.controllerRevisions,
      candidates: this.#revisions.store.byIndex('namespace', namespace),
    });
    const pods = (
      await claim({
        ...claimOpts,
        resource: resources.pods,
        candidates: this.#pods.store.byIndex('namespace', namespace),
      })
    ).filter((p) => ordinalOf(set, p) >= 0);
    const { current, update, collisionCount } = await this.#history(set, revisions);
    const status = await syncStatefulSet(
      {
        set,
        pods,
        current: { name: current.metadata.name ?? '', template: templateOfRevision(current) },
        update: { name: update.metadata.name ?? '', template: templateOfRevision(update) },
        claim: (ns, name) => this.#claims.store.get(`${ns}/${name}`),
        now: this.#ctx.clock.now(),
      },
      { client: this.#ctx.client, events: this.#events },
    );
    if (collisionCount !== undefined) status.collisionCount = collisionCount;
    await this.#writeStatus(set, status);
    await this.#pruneHistory(set, revisions, pods, status);
    const minReady = Number(set.spec?.minReadySeconds ?? 0);
    if (minReady > 0 && status.readyReplicas !== status.availableReplicas)
      this.queue.addAfter(key, minReady * 1000);
  }

  async #canAdopt(set: StatefulSet): Promise<void> {
    const fresh = await this.#ctx.client.get<StatefulSet>(resources.statefulSets, set.metadata.name ?? '', {
      namespace: set.metadata.namespace,
    });
    if (fresh.metadata.uid !== set.metadata.uid || fresh.metadata.deletionTimestamp)
      throw new NotFoundError(`adopting for statefulset ${keyOf(set)}: original object is gone or going`);
  }

  /**
   * The current and update revisions (upstream's getStatefulSetRevisions): the
   * template's revision is the newest equal one (bumped to the next number when
   * an older one matches: a rollback) or a new one; on a name collision with a
   * different template the collision count goes up and the hash changes.
   */
  async #history(
    set: StatefulSet,
    owned: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount?: number }> {
    const revisions = [...owned].sort(byRevision);
    const { client } = this.#ctx;
    let collisionCount = set.status?.collisionCount as number | undefined;
    const next = nextRevisionNumber(revisions);
    const candidate = newRevision({ owner: set, apiVersion, kind, revision: next, collisionCount });
    const equal = revisions.filter((r) => equalRevisions(r, candidate));
    const latest = revisions.at(-1);
    let update: ControllerRevision;
    const last = equal.at(-1);
    if (last && last === latest) update = last;
    else if (last) {
      update = await client.update(resources.controllerRevisions, {
        ...structuredClone(last),
        revision: next,
      });
    } else {
      let attempt = candidate;
      for (;;) {
        try {
          update = await client.create(resources.controllerRevisions, attempt);
          break;
        } catch (err) {
          if (!(err instanceof AlreadyExistsError)) throw err;
          const existing = await client.get<ControllerRevision>(
            resources.controllerRevisions,
            attempt.metadata.name ?? '',
            { namespace: set.metadata.namespace },
          );
          if (equalRevisions(existing, attempt) && controllerRef(existing)?.uid === set.metadata.uid) {
            update = existing;
            break;
          }
          collisionCount = (collisionCount ?? 0) + 1;
          attempt = newRevision({ owner: set, apiVersion, kind, revision: next, collisionCount });
        }
      }
    }
    const current =
      revisions.find((r) => r.metadata.name === set.status?.currentRevision && r.metadata.name) ?? update;
    return { current, update, collisionCount };
  }

  async #writeStatus(set: StatefulSet, next: SetStatus): Promise<void> {
    const cur = (set.status ?? {}) as Record<string, unknown>;
    const changed = Object.entries(next).some(([k, v]) => (cur[k] ?? 0) !== v);
    if (!changed) return;
    const copy = structuredClone(set) as StatefulSet;
    copy.status = { ...cur, ...next };
    await updateStatusFresh(this.#ctx.client, resources.statefulSets, copy);
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit that no pod and neither status revision uses. */
  async #pruneHistory(
    set: StatefulSet,
    revisions: ControllerRevision[],
    pods: Pod[],
    status: SetStatus,
  ): Promise<void> {
    const live = new Set([status.currentRevision, status.updateRevision, ...pods.map(revisionOfPod)]);
    const limit = Number(set.spec?.revisionHistoryLimit ?? 10);
    for (const r of revisionsToPrune(revisions, live, limit)) {
      await this.#ctx.client
        .delete(resources.controllerRevisions, r.metadata.name ?? '', { namespace: r.metadata.namespace })
        .catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
    }
  }
}

export const newStatefulSetController = (ctx: ControllerContext) => new StatefulSetController(ctx);
