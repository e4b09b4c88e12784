import {
  type DaemonSet,
  type Informer,
  keyOf,
  type Node,
  type Pod,
  resources,
  splitKey,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, updateStatusFresh } from './controller.ts';
import type { ControllerRevision } from './controller-revision.ts';
import { currentRevision, hashOf, pruneRevisions } from './daemonset-history.ts';
import {
  type Eligibility,
  type NodeActions,
  newDaemonPod,
  nodeShouldRunDaemonPod,
  podsShouldBeOnNode,
  targetNodeName,
} from './daemonset-pods.ts';
import { daemonSetStatus, isRollingUpdate, rollingUpdate, surgeAndUnavailable } from './daemonset-update.ts';
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
import { isPodReady } from './pod-status.ts';
import { burstReplicas, slowStartBatch } from './replica-pods.ts';

const nodeShape = (n: Node) => JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable]);

/**
 * The DaemonSet controller: one pod per eligible node (nodeSelector, node
 * affinity, taints against the template's tolerations plus the daemon ones),
 * each pinned to its node by a required `metadata.name` node affinity and
 * bound by the scheduler; RollingUpdate (maxUnavailable, maxSurge) or
 * OnDelete; the template history as ControllerRevisions whose hash labels the
 * pods; status counts as upstream keeps them.
 */
export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 2;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #ds: Informer<DaemonSet>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #revisions: Informer<ControllerRevision>;
  readonly #exp: Expectations;
  readonly #events: EventRecorder;
  /** Back-off for replacing failed pods, per `<ds key>/<node>`. */
  readonly #backoff = new Map<string, { delay: number; until: number }>();

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#exp = new Expectations(ctx.clock);
    this.#events = EventRecorder.forController(ctx, 'daemonset-controller');
    this.#ds = ctx.informers.informerFor<DaemonSet>(resources.daemonSets);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { controllerUid: byControllerUid });
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.#revisions = ctx.informers.informerFor<ControllerRevision>(
      resources.controllerRevisions,
      {},
      { controllerUid: byControllerUid },
    );
    this.informers = [this.#ds, this.#pods, this.#nodes, this.#revisions];
    this.#ds.addHandler({
      onAdd: (ds) => this.queue.add(keyOf(ds)),
      onUpdate: (_, ds) => this.queue.add(keyOf(ds)),
      onDelete: (ds) => {
        this.#exp.forget(keyOf(ds));
        for (const k of this.#backoff.keys()) if (k.startsWith(`${keyOf(ds)}/`)) this.#backoff.delete(k);
        this.queue.add(keyOf(ds));
      },
    });
    this.#pods.addHandler({
      onAdd: (p) => this.#podChanged(p, true),
      onUpdate: (old, p) => {
        if (old.metadata.resourceVersion !== p.metadata.resourceVersion) this.#podChanged(p, false);
      },
      onDelete: (p) => this.#podChanged(p, false, true),
    });
    const all = () => {
      for (const ds of this.#ds.store.list()) this.queue.add(keyOf(ds));
    };
    this.#nodes.addHandler({
      onAdd: all,
      onUpdate: (old, n) => {
        if (nodeShape(old) !== nodeShape(n)) all();
      },
      onDelete: all,
    });
  }

  #owner(pod: Pod): DaemonSet | undefined {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'DaemonSet') return undefined;
    const ds = this.#ds.store.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    return ds?.metadata.uid === ref.uid ? ds : undefined;
  }

  #podChanged(pod: Pod, added: boolean, deleted = false): void {
    const ds = this.#owner(pod);
    if (ds) {
      if (added) this.#exp.creationObserved(keyOf(ds));
      if (deleted || (pod.metadata.deletionTimestamp && !added))
        this.#exp.deletionObserved(keyOf(ds), keyOf(pod));
      this.queue.add(keyOf(ds));
      const minReady = Number(ds.spec?.minReadySeconds ?? 0);
      if (minReady > 0 && isPodReady(pod)) this.queue.addAfter(keyOf(ds), minReady * 1000);
      return;
    }
    if (controllerRef(pod) || deleted) return;
    for (const d of this.#ds.store.byIndex('namespace', pod.metadata.namespace ?? '')) {
      const sel = selectorOf(d.spec?.selector);
      if (sel && selects(sel, pod)) this.queue.add(keyOf(d));
    }
  }

  async reconcile(key: string): Promise<void> {
    const ds = this.#ds.store.get(key);
    if (!ds) {
      this.#exp.forget(key);
      return;
    }
    const selector = selectorOf(ds.spec?.selector);
    if (!selector || !selectsTemplate(selector, ds.spec?.template)) {
      this.#events.record(ds, 'Warning', 'SelectorMismatch', 'selector does not match template labels');
      return;
    }
    const { client } = this.#ctx;
    const { namespace } = splitKey(key);
    const pods = await claim({
      client,
      resource: resources.pods,
      owner: ds,
      ownerRef: newControllerRef(ds, 'apps/v1', 'DaemonSet'),
      selector,
      candidates: this.#pods.store.byIndex('namespace', namespace),
      canAdopt: () => this.#canAdopt(ds),
    });
    if (ds.metadata.deletionTimestamp) return;
    const owned = this.#revisions.store.byIndex('controllerUid', ds.metadata.uid ?? '');
    const cur = await currentRevision(client, ds, owned);
    const hash = hashOf(cur);
    const now = this.#ctx.clock.now();
    const nodeToPods = new Map<string, Pod[]>();
    const nodeNames = new Set(this.#nodes.store.list().map((n) => n.metadata.name ?? ''));
    const orphaned: Pod[] = [];
    for (const p of pods) {
      const node = targetNodeName(p);
      if (!node || !nodeNames.has(node)) {
        if (!p.metadata.deletionTimestamp) orphaned.push(p);
        continue;
      }
      nodeToPods.set(node, [...(nodeToPods.get(node) ?? []), p]);
    }
    const nodes = this.#nodes.store
      .list()
      .map((n) => ({ name: n.metadata.name ?? '', eligibility: nodeShouldRunDaemonPod(n, ds) }));
    if (this.#exp.satisfied(key)) await this.#manage(key, ds, { nodes, nodeToPods, orphaned, hash, now });
    await pruneRevisions(client, ds, owned, cur, pods);
    await this.#updateStatus(ds, nodes, nodeToPods, hash, now);
  }

  async #canAdopt(ds: DaemonSet): Promise<void> {
    const fresh = await this.#ctx.client.get<DaemonSet>(resources.daemonSets, ds.metadata.name ?? '', {
      namespace: ds.metadata.namespace,
    });
    if (fresh.metadata.uid !== ds.metadata.uid || fresh.metadata.deletionTimestamp)
      throw new NotFoundError(`adopting pods for ${keyOf(ds)}: the daemon set is gone or being deleted`);
  }

  async #manage(
    key: string,
    ds: DaemonSet,
    s: {
      nodes: { name: string; eligibility: Eligibility }[];
      nodeToPods: Map<string, Pod[]>;
      orphaned: Pod[];
      hash: string;
      now: number;
    },
  ): Promise<void> {
    const minReady = Number(ds.spec?.minReadySeconds ?? 0);
    const desired = s.nodes.filter((n) => n.eligibility.shouldRun).length;
    const surge = isRollingUpdate(ds) && surgeAndUnavailable(ds, desired).surge > 0;
    const actions: NodeActions = { create: [], remove: [...s.orphaned], failed: [] };
    for (const n of s.nodes) {
      const pods = s.nodeToPods.get(n.name) ?? [];
      podsShouldBeOnNode(
        { node: n.name, eligibility: n.eligibility, pods, hash: s.hash, surge, minReady, now: s.now },
        actions,
      );
    }
    for (const p of actions.failed) {
      // A daemon that keeps failing is replaced with back-off per node (upstream's failedPodsBackoff).
      const wait = this.#failedBackoff(`${key}/${p.spec?.nodeName ?? ''}`, s.now);
      if (wait > 0) {
        actions.remove = actions.remove.filter((x) => x !== p);
        this.queue.addAfter(key, wait);
        continue;
      }
      const msg = `Found failed daemon pod ${keyOf(p)} on node ${p.spec?.nodeName ?? ''}, will try to kill it`;
      this.#events.record(ds, 'Warning', 'FailedDaemonPod', msg);
    }
    if (isRollingUpdate(ds) && actions.create.length === 0 && actions.remove.length === 0) {
      const running = new Map<string, Pod[]>();
      for (const n of s.nodes) {
        if (n.eligibility.shouldRun) running.set(n.name, s.nodeToPods.get(n.name) ?? []);
      }
      const plan = rollingUpdate({ ds, nodeToPods: running, hash: s.hash, desired, now: s.now });
      actions.create.push(...plan.create);
      actions.remove.push(...plan.remove);
    }
    await this.#syncNodes(key, ds, actions, s.hash);
  }

  /** 0 when a failed pod on this node may be replaced now (arming the next, doubled delay), else ms to wait. */
  #failedBackoff(nodeKey: string, now: number): number {
    const b = this.#backoff.get(nodeKey);
    if (b && now < b.until) return b.until - now;
    const delay = Math.min((b?.delay ?? 500) * 2, 15 * 60_000);
    this.#backoff.set(nodeKey, { delay, until: now + delay });
    return 0;
  }

  async #syncNodes(key: string, ds: DaemonSet, a: NodeActions, hash: string): Promise<void> {
    const { client, log } = this.#ctx;
    const create = a.create.slice(0, burstReplicas);
    const remove = [...new Map(a.remove.map((p) => [keyOf(p), p])).values()].slice(0, burstReplicas);
    if (create.length === 0 && remove.length === 0) return;
    // One expectation per sync (Expectations keeps one kind): creations matter
    // more, as a repeated delete only meets NotFound.
    if (create.length > 0) this.#exp.expectCreations(key, create.length);
    else this.#exp.expectDeletions(key, remove.map(keyOf));
    const ref = newControllerRef(ds, 'apps/v1', 'DaemonSet');
    let i = 0;
    const { ok, err } = await slowStartBatch(create.length, async () => {
      const pod = await client.create(resources.pods, newDaemonPod(ds, create[i++] ?? '', hash, ref));
      this.#events.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name ?? ''}`);
    });
    for (let j = ok; j < create.length; j++) this.#exp.creationObserved(key);
    let firstErr: unknown = err;
    for (const p of remove) {
      try {
        await client.delete(resources.pods, p.metadata.name ?? '', { namespace: p.metadata.namespace });
        this.#events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name ?? ''}`);
      } catch (e) {
        this.#exp.deletionObserved(key, keyOf(p));
        if (!(e instanceof NotFoundError)) firstErr ??= e;
      }
    }
    log.debug({ ds: key, created: ok, deleted: remove.length }, 'synced daemon pods');
    if (firstErr) throw firstErr;
  }

  async #updateStatus(
    ds: DaemonSet,
    nodes: { name: string; eligibility: Eligibility }[],
    nodeToPods: Map<string, Pod[]>,
    hash: string,
    now: number,
  ): Promise<void> {
    const live = new Map(
      [...nodeToPods].map(([n, pods]) => [n, pods.filter((p) => !p.metadata.deletionTimestamp)]),
    );
    const next = daemonSetStatus(ds, nodes, live, hash, now);
    const current = (ds.status ?? {}) as Record<string, unknown>;
    const changed = Object.entries(next).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v));
    if (!changed) return;
    const copy = structuredClone(ds) as DaemonSet;
    copy.status = { ...next };
    await updateStatusFresh(this.#ctx.client, resources.daemonSets, copy);
  }
}

export const newDaemonSetController = (ctx: ControllerContext) => new DaemonSetController(ctx);
