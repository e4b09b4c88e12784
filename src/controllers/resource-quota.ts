import {
  addUsage,
  formatUsage,
  isPodCounted,
  type Tracked,
  trackedBy,
  type Usage,
  usageOf,
} from '../api/quota.ts';
import {
  type Informer,
  type KubeObject,
  keyOf,
  type Resource,
  resources,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { newQueue, updateStatusFresh } from './controller.ts';

/** Upstream's full recalculation period (--resource-quota-sync-period). */
export const quotaResyncMs = 5 * 60_000;
/** How soon a quota whose objects' cache is still filling is looked at again. */
const unsyncedRetryMs = 200;

const trackedKey = (t: Tracked) => `${t.group}/${t.plural}`;

/**
 * Keeps every ResourceQuota's `status.hard` (= spec.hard) and `status.used`
 * (what the namespace's objects add up to) current, as upstream's
 * resourcequota controller does. Informers for the objects a quota counts
 * are made when a quota first names them. Creates are charged by the quota
 * admission at once, so only deletions, pods finishing and spec changes
 * re-queue the namespace's quotas here; every quota is also recalculated
 * every 5 minutes (releasing what failed creates held).
 */
export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  readonly queue: Workqueue<string>;
  /** Upstream's --concurrent-resource-quota-syncs. */
  readonly workers = 5;
  readonly informers: Informer[];
  readonly #ctx: ControllerContext;
  readonly #quotas: Informer;
  readonly #watched = new Map<string, Informer | undefined>();

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#quotas = ctx.informers.informerFor(resources.resourceQuotas);
    this.informers = [this.#quotas];
    this.#quotas.addHandler({
      onAdd: (q) => this.queue.add(keyOf(q)),
      // Status writes (ours and admission's) come back as updates; only a changed spec needs a sync.
      onUpdate: (_, q) => {
        if (canonicalJsonOf(q.spec?.hard ?? {}) !== canonicalJsonOf(q.status?.hard ?? {}))
          this.queue.add(keyOf(q));
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    const quota = this.#quotas.store.get(key);
    if (!quota) return;
    const hard = record(quota.spec?.hard);
    const ns = quota.metadata.namespace ?? '';
    const byTracked = new Map<string, { tracked: Tracked; names: string[] }>();
    for (const name of Object.keys(hard)) {
      const t = trackedBy(name);
      if (!t) continue;
      const entry = byTracked.get(trackedKey(t)) ?? { tracked: t, names: [] };
      entry.names.push(name);
      byTracked.set(trackedKey(t), entry);
    }
    const used: Usage = new Map();
    for (const { tracked, names } of byTracked.values()) {
      const inf = this.#informerFor(tracked);
      if (!inf) continue; // a resource we cannot list: its names stay out of status.used
      if (!inf.hasSynced()) {
        this.queue.addAfter(key, unsyncedRetryMs);
        return;
      }
      for (const n of names) used.set(n, 0);
      const now = this.#ctx.clock.now();
      for (const obj of inf.store.byIndex('namespace', ns)) addUsage(used, usageOf(obj, tracked, names, now));
    }
    this.queue.addAfter(key, quotaResyncMs);
    const status = { ...record(quota.status), hard: { ...hard }, used: formatUsage(used, hard) };
    if (canonicalJsonOf(status) === canonicalJsonOf(quota.status ?? {})) return;
    try {
      await updateStatusFresh(this.#ctx.client, resources.resourceQuotas, {
        ...structuredClone(quota),
        status,
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** The shared informer for what `t` names (made and watched on first use); undefined if unknown. */
  #informerFor(t: Tracked): Informer | undefined {
    const k = trackedKey(t);
    if (this.#watched.has(k)) return this.#watched.get(k);
    const r = Object.values(resources).find(
      (x: Resource) => x.resource === t.plural && x.group === t.group && x.namespaced,
    );
    const inf = r ? this.#ctx.informers.informerFor(r) : undefined;
    this.#watched.set(k, inf);
    inf?.addHandler({
      onDelete: (o) => this.#enqueueNamespace(o),
      onUpdate: (old, o) => {
        const changed =
          t.group === '' && t.plural === 'pods'
            ? isPodCounted(old) !== isPodCounted(o) ||
              Boolean(old.metadata.deletionTimestamp) !== Boolean(o.metadata.deletionTimestamp)
            : canonicalJsonOf(old.spec ?? {}) !== canonicalJsonOf(o.spec ?? {});
        if (changed) this.#enqueueNamespace(o);
      },
    });
    return inf;
  }

  #enqueueNamespace(o: KubeObject): void {
    for (const q of this.#quotas.store.byIndex('namespace', o.metadata.namespace ?? ''))
      this.queue.add(keyOf(q));
  }
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export const newResourceQuotaController = (ctx: ControllerContext) => new ResourceQuotaController(ctx);
