import type { ResourceType } from '../api/resource.ts';
import { isObject, type KubeObject } from '../api/types.ts';
import { isScalarMessage, messageFields, messageName } from './protobuf/decode.ts';

/**
 * Paths of fields the kind does not define, for fieldValidation Strict/Warn.
 * Built-in kinds are checked against the same field tables the protobuf
 * decoder uses; custom resources against their CRD's OpenAPI schema.
 */
export function unknownFields(type: ResourceType, obj: KubeObject): string[] {
  const out: string[] = [];
  if (type.schema) walkSchema(type.schema, obj, '', out, true);
  else {
    const msg = messageName(type.group, type.kind, type.version);
    if (msg) walkMessage(msg, obj, '', out, true);
  }
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function walkMessage(message: string, value: unknown, path: string, out: string[], root = false): void {
  if (!isObject(value) || isScalarMessage(message)) return;
  const fields = messageFields(message);
  if (!fields) return;
  for (const [k, v] of Object.entries(value)) {
    if (root && (k === 'apiVersion' || k === 'kind')) continue;
    const f = fields.get(k);
    if (!f) {
      out.push(join(path, k));
      continue;
    }
    if (!f.type.includes('.')) continue;
    const at = join(path, k);
    if (f.map && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) walkMessage(f.type, mv, `${at}[${mk}]`, out);
    } else if (f.repeated && Array.isArray(v)) {
      for (const [i, item] of v.entries()) walkMessage(f.type, item, `${at}[${i}]`, out);
    } else walkMessage(f.type, v, at, out);
  }
}

function walkSchema(
  schema: Record<string, unknown>,
  value: unknown,
  path: string,
  out: string[],
  root = false,
): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && !isObject(schema.properties)) return;
  if (Array.isArray(value) && isObject(schema.items)) {
    const items = schema.items as Record<string, unknown>;
    for (const [i, item] of value.entries()) walkSchema(items, item, `${path}[${i}]`, out);
    return;
  }
  if (!isObject(value)) return;
  const props = isObject(schema.properties) ? schema.properties : undefined;
  for (const [k, v] of Object.entries(value)) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const sub = props?.[k];
    if (isObject(sub)) walkSchema(sub, v, join(path, k), out);
    else if (isObject(schema.additionalProperties))
      walkSchema(schema.additionalProperties, v, join(path, k), out);
    else if (
      props &&
      schema['x-kubernetes-preserve-unknown-fields'] !== true &&
      schema.additionalProperties !== true
    )
      out.push(join(path, k));
  }
}
