import { parseMilli } from '../../api/quantity.ts';
import {
  formatQuantity,
  formatUsage,
  missingResources,
  type Tracked,
  type Usage,
  usageOf,
} from '../../api/quota.ts';
import type { ResourceType } from '../../api/resource.ts';
import { isObject, type KubeObject } from '../../api/types.ts';
import { ConflictError, ForbiddenError } from '../../lib/errors.ts';
import type { Admission, AdmissionRequest, ObjectStore } from '../object-store.ts';

/** How often a create re-reads the quotas after losing a compare-and-swap race. */
const maxAttempts = 20;

interface Charge {
  quota: KubeObject;
  used: Usage;
}

/**
 * Upstream's ResourceQuota admission: a create that would take a namespace's
 * usage past a quota's `hard` is refused with 403 Forbidden
 * (`exceeded quota: <name>, requested: ..., used: ..., limited: ...`), and an
 * admitted create is charged to `status.used` at once with a compare-and-swap
 * on the quota object, so two concurrent creates cannot both slip under the
 * limit. The quota controller recomputes `status.used` from the objects that
 * exist (releasing what deleted objects and failed creates held).
 */
export class ResourceQuotaAdmission implements Admission {
  readonly #objects: () => ObjectStore;
  readonly #quotaType: ResourceType;

  constructor(objects: () => ObjectStore, quotaType: ResourceType) {
    this.#objects = objects;
    this.#quotaType = quotaType;
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || !req.type.namespaced || req.subresource) return;
    const ns = req.obj.metadata.namespace;
    if (!ns) return;
    const tracked: Tracked = { group: req.type.group, plural: req.type.plural };
    // Quotas already charged in an earlier attempt are not charged again.
    const charged = new Set<string>();
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const charges = await this.#evaluate(req, ns, tracked, charged);
      if (charges.length === 0 || req.dryRun) return;
      if (await this.#charge(charges, charged)) return;
    }
    throw new ConflictError(
      `admitting ${req.type.plural} "${req.obj.metadata.name ?? ''}": quota status kept changing`,
    );
  }

  /** The quotas this object counts toward with their new usage; throws Forbidden when one is exceeded. */
  async #evaluate(
    req: AdmissionRequest,
    ns: string,
    tracked: Tracked,
    charged: Set<string>,
  ): Promise<Charge[]> {
    const objects = this.#objects();
    const page = await objects.store.list({ prefix: objects.prefix(this.#quotaType, ns) });
    const forbid = (msg: string) =>
      new ForbiddenError(`${req.type.plural} "${req.obj.metadata.name ?? ''}" is forbidden: ${msg}`);
    const charges: Charge[] = [];
    for (const kv of page.items) {
      const quota = objects.decode(kv);
      const name = quota.metadata.name ?? '';
      if (quota.metadata.deletionTimestamp || charged.has(name)) continue;
      const hard = record(quota.spec?.hard);
      const delta = usageOf(req.obj, tracked, Object.keys(hard));
      if (delta.size === 0) continue;
      if (tracked.group === '' && tracked.plural === 'pods') {
        const missing = missingResources(req.obj, Object.keys(hard));
        if (missing) throw forbid(`failed quota: ${name}: ${missing}`);
      }
      const statusHard = record(isObject(quota.status) ? quota.status.hard : undefined);
      const unknown = [...delta.keys()].filter((k) => statusHard[k] === undefined).sort();
      if (unknown.length > 0)
        throw forbid(`status unknown for quota: ${name}, resources: ${unknown.join(',')}`);
      const usedNow = record(isObject(quota.status) ? quota.status.used : undefined);
      const used: Usage = new Map(Object.entries(usedNow).map(([k, v]) => [k, parseMilli(String(v))]));
      const exceeded: string[] = [];
      for (const [k, v] of delta) {
        const limit = parseMilli(String(hard[k]));
        const next = (used.get(k) ?? 0) + v;
        if (v > 0 && next > limit) exceeded.push(k);
        used.set(k, next);
      }
      if (exceeded.length > 0) {
        exceeded.sort();
        const show = (f: (k: string) => string) => exceeded.map((k) => `${k}=${f(k)}`).join(',');
        const like = (k: string) => String(hard[k]);
        throw forbid(
          `exceeded quota: ${name}, requested: ${show((k) => formatQuantity(delta.get(k) ?? 0, like(k)))}, used: ${show((k) => formatQuantity(parseMilli(String(usedNow[k] ?? '0')), like(k)))}, limited: ${show((k) => formatQuantity(parseMilli(like(k)), like(k)))}`,
        );
      }
      charges.push({ quota, used });
    }
    return charges;
  }

  /** Writes each quota's new usage with the resourceVersion it was computed from; false on a lost race. */
  async #charge(charges: Charge[], charged: Set<string>): Promise<boolean> {
    const objects = this.#objects();
    for (const { quota, used } of charges) {
      const hard = record(quota.spec?.hard);
      try {
        await objects.update(
          this.#quotaType,
          quota.metadata.namespace,
          quota.metadata.name ?? '',
          (current) => {
            const next = structuredClone(current ?? quota);
            next.metadata.resourceVersion = quota.metadata.resourceVersion;
            const status = isObject(next.status) ? next.status : {};
            next.status = { ...status, used: { ...record(status.used), ...formatUsage(used, hard) } };
            return next;
          },
          { subresource: 'status' },
        );
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
      charged.add(quota.metadata.name ?? '');
    }
    return true;
  }
}

function record(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {};
}
