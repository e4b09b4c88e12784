import type { ManagedFieldsEntry } from '../api/types.ts';
import { isObject, type JsonObject, type KubeObject } from '../api/types.ts';

/** List fields merged by key (server-side apply and strategic merge share these). */
export const listMergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  volumes: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  schedulingGates: 'name',
  resourceClaims: 'name',
  conditions: 'type',
  addresses: 'type',
  podIPs: 'ip',
  hostIPs: 'ip',
  secrets: 'name',
  ownerReferences: 'uid',
  tolerations: 'key',
};

/** The merge key for a list at `path`; Service ports merge by `port`, container ports by `containerPort`. */
export function mergeKeyFor(path: readonly string[]): string | undefined {
  const field = path[path.length - 1] ?? '';
  if (field === 'ports' && path.length === 2 && path[0] === 'spec') return 'port';
  if (field === 'tolerations') return undefined;
  if (field === 'addresses' && path[0] !== 'status') return undefined;
  return listMergeKeys[field];
}

/**
 * The FieldsV1 set of an object tree (`f:` fields, `k:` keyed list items, `v:`
 * set values), as server-side apply records ownership.
 */
export function fieldSet(value: unknown, path: string[] = []): JsonObject {
  const out: JsonObject = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (path.length === 0 && ['apiVersion', 'kind', 'status'].includes(k)) continue;
    if (
      path.length === 1 &&
      path[0] === 'metadata' &&
      !['labels', 'annotations', 'finalizers', 'ownerReferences'].includes(k)
    )
      continue;
    const child = [...path, k];
    if (isObject(v)) {
      const sub = fieldSet(v, child);
      // metadata holding only server-owned fields (name, namespace...) owns nothing.
      if (Object.keys(sub).length > 0 || Object.keys(v).length === 0 || k !== 'metadata') out[`f:${k}`] = sub;
    } else if (Array.isArray(v)) {
      const key = mergeKeyFor(child);
      const items: JsonObject = {};
      for (const item of v) {
        if (key && isObject(item) && item[key] !== undefined) {
          items[`k:${JSON.stringify({ [key]: item[key] })}`] = { '.': {}, ...fieldSet(item, child) };
        } else if (!isObject(item)) items[`v:${JSON.stringify(item)}`] = {};
      }
      out[`f:${k}`] = key || v.every((i) => !isObject(i)) ? items : {};
    } else out[`f:${k}`] = {};
  }
  return out;
}

/** Records (replaces) `manager`'s entry for this operation. */
export function recordManager(
  obj: KubeObject,
  entry: Omit<ManagedFieldsEntry, 'fieldsType' | 'time'>,
  fields: JsonObject,
): void {
  const list = (obj.metadata.managedFields ?? []).filter(
    (e) =>
      !(
        e.manager === entry.manager &&
        e.operation === entry.operation &&
        (e.subresource ?? '') === (entry.subresource ?? '')
      ),
  );
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  list.push({ ...entry, time, fieldsType: 'FieldsV1', fieldsV1: fields, ...(entry.subresource ? {} : {}) });
  obj.metadata.managedFields = list;
}

/** Flattens a FieldsV1 tree into leaf paths (for conflict checks). */
export function leafPaths(fields: JsonObject, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k === '.') continue;
    const p = `${prefix}/${k}`;
    if (isObject(v) && Object.keys(v).some((c) => c !== '.')) out.push(...leafPaths(v, p));
    else out.push(p);
  }
  return out;
}
