import type { FieldError } from '../resource.ts';
import { getPath, isObject, type KubeObject } from '../types.ts';
import { forbidden, invalid, notSupported, validateName } from '../validation.ts';

/** Spec fields an update may change (upstream's ValidateStatefulSetUpdate). */
const mutable = [
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'revisionHistoryLimit',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
];

/** JSON with sorted keys: equal trees compare equal whatever their key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    isObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );

const nonNegative = (v: unknown, field: string): FieldError[] =>
  v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    ? [invalid(field, v, 'must be greater than or equal to 0')]
    : [];

/**
 * StatefulSet rules beyond the workload ones (selector, replicas, template):
 * upstream's ValidateStatefulSetSpec messages for podManagementPolicy,
 * updateStrategy and partition, serviceName (optional, as upstream, but a DNS
 * label when set: it becomes the pods' subdomain), restartPolicy Always,
 * claim template names, and on update the fields that may not change.
 */
export function validateStatefulSet(obj: KubeObject, old?: KubeObject): FieldError[] {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const out: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (policy !== undefined && policy !== 'OrderedReady' && policy !== 'Parallel')
    out.push(notSupported('spec.podManagementPolicy', policy, ['OrderedReady', 'Parallel']));
  const strategy = isObject(spec.updateStrategy) ? spec.updateStrategy : {};
  const type = strategy.type;
  if (type !== 'RollingUpdate' && type !== 'OnDelete')
    out.push(notSupported('spec.updateStrategy.type', type ?? '', ['OnDelete', 'RollingUpdate']));
  if (type === 'OnDelete' && strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null)
    out.push(
      invalid(
        'spec.updateStrategy.rollingUpdate',
        strategy.rollingUpdate,
        "only allowed for updateStrategy 'RollingUpdate'",
      ),
    );
  const ru = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  out.push(...nonNegative(ru.partition, 'spec.updateStrategy.rollingUpdate.partition'));
  out.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  out.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const retention = isObject(spec.persistentVolumeClaimRetentionPolicy)
    ? spec.persistentVolumeClaimRetentionPolicy
    : {};
  for (const when of ['whenDeleted', 'whenScaled']) {
    const v = retention[when];
    if (v !== undefined && v !== 'Retain' && v !== 'Delete')
      out.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${when}`, v, ['Retain', 'Delete']));
  }
  const service = spec.serviceName;
  if (service !== undefined && service !== '')
    out.push(...validateName(String(service), 'label', 'spec.serviceName'));
  const rp = getPath(obj, ['spec', 'template', 'spec', 'restartPolicy']);
  if (rp !== undefined && rp !== 'Always')
    out.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  const templates = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
  templates.forEach((t: unknown, i) => {
    const name = isObject(t) && isObject(t.metadata) ? t.metadata.name : undefined;
    const field = `spec.volumeClaimTemplates[${i}].metadata.name`;
    if (typeof name !== 'string' || name === '')
      out.push({ reason: 'FieldValueRequired', field, message: 'Required value' });
    else out.push(...validateName(name, 'subdomain', field));
  });
  if (old) {
    const pick = (s: unknown) =>
      canonical(
        Object.fromEntries(Object.entries(isObject(s) ? s : {}).filter(([k]) => !mutable.includes(k))),
      );
    if (pick(old.spec) !== pick(obj.spec))
      out.push(
        forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
  }
  return out;
}

/**
 * Upstream's StatefulSet strategy defaulting for partly given strategies: a
 * missing type is RollingUpdate, whose partition defaults to 0.
 */
export function defaultUpdateStrategy(spec: Record<string, unknown>): void {
  const st = isObject(spec.updateStrategy) ? spec.updateStrategy : undefined;
  if (!st) {
    spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
    return;
  }
  st.type ??= 'RollingUpdate';
  if (st.type !== 'RollingUpdate') return;
  const ru = isObject(st.rollingUpdate) ? st.rollingUpdate : {};
  ru.partition ??= 0;
  st.rollingUpdate = ru;
}
