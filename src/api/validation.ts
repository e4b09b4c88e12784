import { matchesLabels, selectorRequirements } from './label-selector.ts';
import type { FieldError } from './resource.ts';
import { isObject, type JsonObject, type KubeObject } from './types.ts';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export type NameRule = 'subdomain' | 'label' | 'path';

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return {
    reason: 'FieldValueInvalid',
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  };
}

export function required(field: string): FieldError {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

export function notSupported(field: string, value: unknown, allowed: string[]): FieldError {
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  return {
    reason: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
  };
}

export function forbidden(field: string, detail: string): FieldError {
  return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
}

export function validateName(name: string, rule: NameRule, field = 'metadata.name'): FieldError[] {
  if (rule === 'path') {
    if (name === '.' || name === '..' || /[/%]/.test(name))
      return [invalid(field, name, 'may not contain "/" or "%"')];
    return [];
  }
  const max = rule === 'label' ? 63 : 253;
  const re = rule === 'label' ? dns1123Label : dns1123Subdomain;
  const out: FieldError[] = [];
  if (name.length > max) out.push(invalid(field, name, `must be no more than ${max} characters`));
  if (!re.test(name)) {
    const what = rule === 'label' ? 'RFC 1123 label' : 'RFC 1123 subdomain';
    out.push(
      invalid(
        field,
        name,
        `a lowercase ${what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      ),
    );
  }
  return out;
}

/** Validates a label/annotation key: optional DNS prefix + `/` + qualified name. */
export function validateQualifiedKey(key: string, field: string): FieldError[] {
  const parts = key.split('/');
  const name = parts.length === 2 ? parts[1] : parts[0];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  if (parts.length > 2 || name === undefined || name.length > 63 || !qualifiedName.test(name)) {
    return [
      invalid(
        field,
        key,
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      ),
    ];
  }
  if (prefix !== undefined && (prefix.length > 253 || !dns1123Subdomain.test(prefix))) {
    return [invalid(field, key, 'prefix part must be a lowercase RFC 1123 subdomain')];
  }
  return [];
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return [invalid(field, labels, 'must be a map of strings')];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    out.push(...validateQualifiedKey(k, field));
    if (typeof v !== 'string' || v.length > 63 || !labelValue.test(v)) {
      out.push(
        invalid(
          `${field}`,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
  }
  return out;
}

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) return [invalid(field, annotations, 'must be a map of strings')];
  const out: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    out.push(...validateQualifiedKey(k, field));
    if (typeof v !== 'string') out.push(invalid(`${field}.${k}`, v, 'must be a string'));
    else size += k.length + v.length;
  }
  if (size > 256 * 1024)
    out.push({ reason: 'FieldValueTooLong', field, message: 'Too long: must have at most 262144 bytes' });
  return out;
}

/** Common ObjectMeta checks (name rule per kind, labels, annotations). */
export function validateMeta(obj: KubeObject, rule: NameRule): FieldError[] {
  const meta = obj.metadata;
  const out: FieldError[] = [];
  if (!meta.name) out.push(required('metadata.name'));
  else out.push(...validateName(meta.name, rule));
  out.push(...validateLabels(meta.labels, 'metadata.labels'));
  out.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  return out;
}

/** `field` must not change between `old` and `obj` (immutable fields). */
export function immutable(oldValue: unknown, newValue: unknown, field: string): FieldError[] {
  if (JSON.stringify(oldValue) === JSON.stringify(newValue)) return [];
  return [invalid(field, newValue ?? null, 'field is immutable')];
}

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && dns1123Label.test(s);
}

/** A string map as Go's `%#v` prints it in upstream's messages: `map[string]string{"app":"web"}`. */
export function goStringMap(v: unknown): string {
  if (!isObject(v)) return 'map[string]string(nil)';
  const body = Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(v[k]))}`)
    .join(', ');
  return `map[string]string{${body}}`;
}

const selectorOps = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** A metav1.LabelSelector's shape: label keys and values, operators and their values (upstream's rules). */
export function validateLabelSelector(sel: JsonObject, field: string): FieldError[] {
  const out = validateLabels(sel.matchLabels, `${field}.matchLabels`);
  const exprs = sel.matchExpressions;
  if (exprs === undefined || exprs === null) return out;
  if (!Array.isArray(exprs)) return [...out, invalid(`${field}.matchExpressions`, exprs, 'must be a list')];
  exprs.forEach((e: unknown, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    const r = isObject(e) ? e : {};
    const values = Array.isArray(r.values) ? r.values : [];
    if (typeof r.key !== 'string' || r.key === '') out.push(required(`${f}.key`));
    else out.push(...validateQualifiedKey(r.key, `${f}.key`));
    if (!selectorOps.includes(String(r.operator)))
      out.push(invalid(`${f}.operator`, r.operator ?? '', 'not a valid selector operator'));
    else if ((r.operator === 'In' || r.operator === 'NotIn') && values.length === 0)
      out.push({
        reason: 'FieldValueRequired',
        field: `${f}.values`,
        message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
      });
    else if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && values.length > 0)
      out.push(
        forbidden(`${f}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
      );
  });
  return out;
}

/** Whether a LabelSelector (matchLabels and matchExpressions) selects `labels`. */
export function selectorMatches(sel: JsonObject, labels: unknown): boolean {
  const reqs = selectorRequirements(sel as Parameters<typeof selectorRequirements>[0]);
  const set: Record<string, string> = {};
  if (isObject(labels)) for (const [k, v] of Object.entries(labels)) set[k] = String(v);
  return matchesLabels(reqs, set);
}

/**
 * The workload rule: `spec.selector` is required (unless `selectorRequired`
 * is false), well formed, and selects the pod template's labels, else
 * upstream's `spec.template.metadata.labels: Invalid value:
 * map[string]string{...}: \`selector\` does not match template \`labels\``.
 */
export function validateWorkloadSelector(
  spec: unknown,
  opts: { field?: string; selectorRequired?: boolean } = {},
): FieldError[] {
  const field = opts.field ?? 'spec';
  const sel = isObject(spec) ? spec.selector : undefined;
  if (!isObject(sel)) return opts.selectorRequired === false ? [] : [required(`${field}.selector`)];
  const out = validateLabelSelector(sel, `${field}.selector`);
  if (out.length > 0) return out;
  const labels =
    isObject(spec) && isObject(spec.template) && isObject(spec.template.metadata)
      ? spec.template.metadata.labels
      : undefined;
  const empty =
    Object.keys(isObject(sel.matchLabels) ? sel.matchLabels : {}).length === 0 &&
    !(Array.isArray(sel.matchExpressions) && sel.matchExpressions.length > 0);
  if (!empty && !selectorMatches(sel, labels)) {
    out.push({
      reason: 'FieldValueInvalid',
      field: `${field}.template.metadata.labels`,
      message: `Invalid value: ${goStringMap(labels)}: \`selector\` does not match template \`labels\``,
    });
  }
  return out;
}
