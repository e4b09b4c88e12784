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

/** One step of a FieldsV1 path: `f:name`, `k:{"name":"x"}` or `v:"value"`. */
export function splitPath(p: string): string[] {
  // Leaf paths are built with '/' separators, but keys may contain '/', so split on '/f:', '/k:', '/v:'.
  return p.split(/\/(?=[fkv]:)/).filter((s) => s !== '');
}

function step(cur: unknown, seg: string): unknown {
  if (seg.startsWith('f:')) return isObject(cur) ? cur[seg.slice(2)] : undefined;
  if (seg.startsWith('k:') && Array.isArray(cur)) {
    const key = JSON.parse(seg.slice(2)) as JsonObject;
    return cur.find((i) => isObject(i) && Object.entries(key).every(([k, v]) => i[k] === v));
  }
  if (seg.startsWith('v:') && Array.isArray(cur)) {
    const want = seg.slice(2);
    return cur.find((i) => JSON.stringify(i) === want);
  }
  return undefined;
}

export function valueAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of splitPath(path)) cur = step(cur, seg);
  return cur;
}

export function deleteAt(obj: unknown, path: string): void {
  const segs = splitPath(path);
  let cur = obj;
  for (const seg of segs.slice(0, -1)) cur = step(cur, seg);
  const last = segs[segs.length - 1] ?? '';
  if (last.startsWith('f:') && isObject(cur)) delete cur[last.slice(2)];
  else if (Array.isArray(cur)) {
    const item = step(cur, last);
    const i = cur.indexOf(item);
    if (i >= 0) cur.splice(i, 1);
  }
}

/** Removes one leaf from a FieldsV1 tree (ownership moves to the forcing manager). */
export function dropLeaf(fields: JsonObject, leaf: string): void {
  const segs = splitPath(leaf);
  let cur: unknown = fields;
  for (const seg of segs.slice(0, -1)) {
    cur = isObject(cur) ? cur[seg] : undefined;
    if (!isObject(cur)) return;
  }
  if (isObject(cur)) delete cur[segs[segs.length - 1] ?? ''];
}

/** Builds a FieldsV1 tree from leaf paths (inverse of leafPaths). */
export function treeFromLeaves(leaves: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  for (const leaf of leaves) {
    let cur = root;
    for (const seg of splitPath(leaf)) {
      const next = isObject(cur[seg]) ? (cur[seg] as JsonObject) : {};
      if (seg.startsWith('k:')) next['.'] = {};
      cur[seg] = next;
      cur = next;
    }
  }
  return root;
}

/**
 * Records an Update (any non-apply write) by `entry.manager`: it keeps what
 * it owned before and still exists, and takes every field this write changed;
 * those fields leave the other managers (updates never conflict).
 */
export function recordUpdate(
  obj: KubeObject,
  old: KubeObject | undefined,
  entry: Omit<ManagedFieldsEntry, 'fieldsType' | 'time' | 'fieldsV1'>,
): void {
  const scoped = (o: KubeObject) => (entry.subresource === 'status' ? { status: o.status } : o);
  const leaves = leafPaths(fieldSet(scoped(obj)));
  const present = new Set(leaves);
  const changed = old
    ? leaves.filter((l) => JSON.stringify(valueAt(old, l)) !== JSON.stringify(valueAt(obj, l)))
    : leaves;
  const entries = obj.metadata.managedFields ?? [];
  const same = (e: ManagedFieldsEntry) =>
    e.manager === entry.manager &&
    e.operation === 'Update' &&
    (e.subresource ?? '') === (entry.subresource ?? '');
  const mine = entries.find(same);
  const owned = new Set([
    ...leafPaths(isObject(mine?.fieldsV1) ? mine.fieldsV1 : {}).filter((l) => present.has(l)),
    ...changed,
  ]);
  const taken = new Set(changed);
  obj.metadata.managedFields = entries
    .map((e) => {
      if (same(e) || !isObject(e.fieldsV1)) return e;
      const kept = leafPaths(e.fieldsV1).filter((l) => !taken.has(l));
      return { ...e, fieldsV1: treeFromLeaves(kept) };
    })
    .filter((e) => same(e) || !isObject(e.fieldsV1) || Object.keys(e.fieldsV1).length > 0);
  if (owned.size === 0 && !mine) return;
  recordManager(obj, entry, treeFromLeaves(owned));
}
