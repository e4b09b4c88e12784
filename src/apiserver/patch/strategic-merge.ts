import { isObject, type JsonObject } from '../../api/types.ts';
import { mergeKeyFor } from '../managed-fields.ts';

/** Primitive lists merged as sets rather than replaced (patchStrategy:merge). */
const mergedPrimitiveLists = new Set(['finalizers']);

/**
 * Kubernetes strategic merge patch for built-in kinds: maps merge, keyed lists
 * merge element-wise by their patch-merge key, and the directives kubectl
 * emits ($patch, $setElementOrder, $retainKeys, $deleteFromPrimitiveList)
 * are honoured. Merge keys come from the same table server-side apply uses.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, path: string[] = []): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObject(original) ? { ...original } : {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v))
        out[field] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    const child = [...path, k];
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(out[k], v, child, patch[`$setElementOrder/${k}`]);
    else if (isObject(v)) {
      const merged = applyStrategicMergePatch(out[k], v, child);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  if (retain) {
    for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], path: string[], order: unknown): unknown[] {
  const key = mergeKeyFor(path);
  const field = path[path.length - 1] ?? '';
  const cur = Array.isArray(original) ? original : [];
  if (patch.length === 1 && isObject(patch[0]) && patch[0].$patch === 'replace') return [];
  if (!key) {
    if (mergedPrimitiveLists.has(field)) {
      const out = [...cur];
      for (const v of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
      return out;
    }
    return stripDirectives(patch) as unknown[];
  }
  let out = cur.map((x) => (isObject(x) ? { ...x } : x));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const idx = out.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = applyStrategicMergePatch(out[idx], item, path);
    else out.push(applyStrategicMergePatch(undefined, item, path));
  }
  if (Array.isArray(order)) {
    const rank = new Map(order.filter(isObject).map((o, i) => [JSON.stringify(o[key]), i]));
    out = [...out].sort((a, b) => {
      const ra = isObject(a) ? (rank.get(JSON.stringify(a[key])) ?? Infinity) : Infinity;
      const rb = isObject(b) ? (rank.get(JSON.stringify(b[key])) ?? Infinity) : Infinity;
      return ra - rb;
    });
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}
