import { matchesLabels, selectorRequirements } from '../api/label-selector.ts';
import type { FieldError } from '../api/resource.ts';
import { getPath, isObject, type KubeObject } from '../api/types.ts';
import type { DeleteOptions } from './object-store.ts';
import type { RestContext } from './rest-context.ts';
import { ApiError } from './status.ts';

/** More unconfirmed evictions than this in one budget are refused (upstream's MaxDisruptedPodSize). */
const maxDisruptedPods = 2000;
const violation = "Cannot evict pod as it would violate the pod's disruption budget.";

/** A Status cause of type DisruptionBudget (policy/v1's DisruptionBudgetCause). */
const budgetCause = (message: string) => ({ reason: 'DisruptionBudget', message }) as unknown as FieldError;

const isReady = (pod: KubeObject) => {
  const conds = getPath(pod, ['status', 'conditions']);
  return Array.isArray(conds) && conds.some((c) => isObject(c) && c.type === 'Ready' && c.status === 'True');
};

/** Terminal, pending or already terminating pods are evicted without asking any budget (upstream's canIgnorePDB). */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = getPath(pod, ['status', 'phase']);
  return (
    phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp
  );
}

/** policy/v1 selectors: empty selects every pod of the namespace, absent none. */
function selects(pdb: KubeObject, pod: KubeObject): boolean {
  const sel = getPath(pdb, ['spec', 'selector']);
  if (!isObject(sel)) return false;
  return matchesLabels(
    selectorRequirements(sel as Parameters<typeof selectorRequirements>[0]),
    pod.metadata.labels,
  );
}

/** Upstream's checkAndDecrement, applied to the budget as stored (inside the compare-and-swap update). */
function checkAndDecrement(pdb: KubeObject, podName: string, now: string): KubeObject {
  const name = pdb.metadata.name ?? '';
  const status = (isObject(pdb.status) ? pdb.status : {}) as Record<string, unknown>;
  const num = (k: string) => Number(status[k] ?? 0);
  if (num('observedGeneration') < (pdb.metadata.generation ?? 0)) {
    throw new ApiError(429, 'TooManyRequests', violation, {
      retryAfterSeconds: 10,
      causes: [budgetCause(`The disruption budget ${name} is still being processed by the server.`)],
    });
  }
  const allowed = num('disruptionsAllowed');
  if (allowed < 0)
    throw new ApiError(
      403,
      'Forbidden',
      `poddisruptionbudgets.policy "${name}" is forbidden: pdb disruptions allowed is negative`,
    );
  const disrupted = isObject(status.disruptedPods) ? { ...status.disruptedPods } : {};
  if (Object.keys(disrupted).length > maxDisruptedPods) {
    throw new ApiError(
      403,
      'Forbidden',
      `poddisruptionbudgets.policy "${name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`,
    );
  }
  if (allowed === 0) {
    throw new ApiError(429, 'TooManyRequests', violation, {
      causes: [
        budgetCause(
          `The disruption budget ${name} needs ${num('desiredHealthy')} healthy pods and has ${num('currentHealthy')} currently`,
        ),
      ],
    });
  }
  status.disruptionsAllowed = allowed - 1;
  disrupted[podName] = now;
  status.disruptedPods = disrupted;
  if (allowed - 1 === 0 && Array.isArray(status.conditions)) {
    status.conditions = status.conditions.map((c) =>
      isObject(c) && c.type === 'DisruptionAllowed' && c.status !== 'False'
        ? { ...c, status: 'False', reason: 'InsufficientPods', message: '', lastTransitionTime: now }
        : c,
    );
  }
  pdb.status = status;
  return pdb;
}

/**
 * pods/eviction (policy/v1) as upstream serves it: the pod is deleted only if
 * the one PodDisruptionBudget selecting it allows a disruption, which is
 * recorded in the budget's status (disruptionsAllowed - 1, disruptedPods)
 * before the delete; otherwise 429 TooManyRequests with a DisruptionBudget
 * cause, which `kubectl drain` retries.
 */
export async function evictPod(ctx: RestContext, deleteOptions: DeleteOptions): Promise<void> {
  const { namespace, name = '' } = ctx.info;
  const pod = await ctx.objects.get(ctx.type, namespace, name);
  const remove = () =>
    ctx.objects.delete(ctx.type, namespace, name, {
      ...deleteOptions,
      preconditions: { uid: pod.metadata.uid, ...deleteOptions.preconditions },
    });
  if (canIgnoreBudget(pod)) {
    await remove();
    return;
  }
  const pdbType = ctx.types.lookup('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbType) {
    await remove();
    return;
  }
  const page = await ctx.objects.store.list({ prefix: ctx.objects.prefix(pdbType, namespace) });
  const budgets = page.items.map((kv) => ctx.objects.decodeAs(pdbType, kv)).filter((b) => selects(b, pod));
  if (budgets.length > 1) {
    throw new ApiError(
      500,
      'InternalError',
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
  }
  const pdb = budgets[0];
  if (!pdb) {
    await remove();
    return;
  }
  const status = isObject(pdb.status) ? pdb.status : {};
  const healthy = Number(status.currentHealthy ?? 0);
  const desired = Number(status.desiredHealthy ?? 0);
  const policy = getPath(pdb, ['spec', 'unhealthyPodEvictionPolicy']);
  // An unready pod does not count toward the budget: evicting it costs nothing while the budget holds.
  if (!isReady(pod) && (policy === 'AlwaysAllow' || (healthy >= desired && desired > 0))) {
    await remove();
    return;
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await ctx.objects.update(
    pdbType,
    namespace,
    pdb.metadata.name ?? '',
    (current) => {
      if (!current)
        throw new ApiError(404, 'NotFound', `poddisruptionbudgets.policy "${pdb.metadata.name}" not found`);
      return checkAndDecrement(current, name, now);
    },
    { subresource: 'status', dryRun: deleteOptions.dryRun },
  );
  if (!deleteOptions.dryRun) await remove();
}
