import type { FieldError } from './resource.ts';
import { isObject } from './types.ts';
import { invalid, notSupported, required } from './validation.ts';

type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const got = typeOf(v);
  if (want === 'number') return got === 'number' || got === 'integer';
  return got === want;
}

/**
 * Validates a value against a CRD's structural OpenAPI v3 schema: types,
 * required properties, enums, numeric and length bounds, and
 * x-kubernetes-int-or-string. The paths in the errors are upstream's
 * (`spec.size`, `spec.items[0].name`).
 */
export function validateSchema(schema: Schema, value: unknown, path = ''): FieldError[] {
  const out: FieldError[] = [];
  if (value === undefined) return out;
  if (value === null) {
    if (schema.nullable !== true && schema.type !== undefined)
      out.push(invalid(path, null, `${path} in body must be of type ${String(schema.type)}: "null"`));
    return out;
  }
  const type = schema.type as string | undefined;
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (typeof value !== 'string' && !Number.isInteger(value)) {
      out.push({
        reason: 'FieldValueTypeInvalid',
        field: path,
        message: `Invalid value: ${JSON.stringify(value)}: ${path} in body must be of type int-or-string`,
      });
    }
    return out;
  }
  if (type && !typeMatches(type, value)) {
    out.push({
      reason: 'FieldValueTypeInvalid',
      field: path,
      message: `Invalid value: "${typeOf(value)}": ${path} in body must be of type ${type}: "${typeOf(value)}"`,
    });
    return out;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    out.push(notSupported(path, value, schema.enum.map(String)));
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      out.push(invalid(path, value, `${path} in body should be greater than or equal to ${schema.minimum}`));
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      out.push(invalid(path, value, `${path} in body should be less than or equal to ${schema.maximum}`));
  }
  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) {
      out.push({
        reason: 'FieldValueTooLong',
        field: path,
        message: `Too long: may not be more than ${schema.maxLength} bytes`,
      });
    }
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      out.push(invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value))
      out.push(invalid(path, value, `${path} in body should match '${schema.pattern}'`));
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      out.push({
        reason: 'FieldValueTooMany',
        field: path,
        message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
      });
    if (isObject(schema.items))
      for (const [i, item] of value.entries())
        out.push(...validateSchema(schema.items, item, `${path}[${i}]`));
  }
  if (isObject(value)) {
    const props = isObject(schema.properties) ? schema.properties : {};
    for (const r of Array.isArray(schema.required) ? schema.required : []) {
      if (value[String(r)] === undefined) out.push(required(path ? `${path}.${String(r)}` : String(r)));
    }
    for (const [k, v] of Object.entries(value)) {
      const sub =
        props[k] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (isObject(sub)) out.push(...validateSchema(sub, v, path ? `${path}.${k}` : k));
    }
  }
  return out;
}
