import { apiVersionOf, type ResourceType } from '../../api/resource.ts';
import { isObject, type KubeObject } from '../../api/types.ts';
import { deleteAt, dropLeaf, fieldSet, leafPaths, recordManager, valueAt } from '../managed-fields.ts';
import { ApiError } from '../status.ts';
import { applyStrategicMergePatch } from './strategic-merge.ts';

export interface ApplyOptions {
  manager: string;
  force: boolean;
}

/**
 * Server-side apply (simplified): merges the applied configuration into the
 * live object by list merge keys, removes fields this manager applied before
 * but has now dropped, records ownership in managedFields, and reports a 409
 * FieldManagerConflict when another manager owns a field whose value changes
 * (unless `force`).
 */
export function serverSideApply(
  type: ResourceType,
  live: KubeObject | undefined,
  applied: KubeObject,
  opts: ApplyOptions,
): KubeObject {
  const newFields = fieldSet(applied);
  const newLeaves = leafPaths(newFields);
  const base: KubeObject = live ? structuredClone(live) : { metadata: {} };
  const entries = base.metadata.managedFields ?? [];
  const mine = entries.find((e) => e.manager === opts.manager && e.operation === 'Apply' && !e.subresource);
  const conflicts: { field: string; message: string; manager: string }[] = [];
  if (live) {
    for (const e of entries) {
      if (e === mine || e.subresource) continue;
      const theirs = new Set(leafPaths(isObject(e.fieldsV1) ? e.fieldsV1 : {}));
      for (const leaf of newLeaves) {
        if (!theirs.has(leaf)) continue;
        if (JSON.stringify(valueAt(live, leaf)) === JSON.stringify(valueAt(applied, leaf))) continue;
        conflicts.push({
          field: leaf,
          manager: e.manager ?? '',
          message: `conflict with "${e.manager ?? ''}"${e.operation === 'Update' ? ` using ${e.apiVersion ?? apiVersionOf(type)}` : ''}`,
        });
      }
    }
  }
  if (conflicts.length > 0 && !opts.force) {
    const msg = conflicts.map((c) => `- ${c.message}: ${c.field.replace(/\/?f:/g, '.')}`).join('\n');
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${msg}`,
      {
        causes: conflicts.map((c) => ({
          reason: 'FieldValueInvalid',
          field: c.field.replace(/\/?f:/g, '.'),
          message: c.message,
        })),
      },
    );
  }
  const { managedFields: _mf, resourceVersion, ...appliedMeta } = applied.metadata;
  const merged = applyStrategicMergePatch(base, { ...applied, metadata: appliedMeta }) as KubeObject;
  if (resourceVersion) merged.metadata.resourceVersion = resourceVersion;
  else if (live) delete merged.metadata.resourceVersion;
  if (mine && isObject(mine.fieldsV1)) {
    const keep = new Set(newLeaves);
    const others = new Set(
      entries.filter((e) => e !== mine).flatMap((e) => leafPaths(isObject(e.fieldsV1) ? e.fieldsV1 : {})),
    );
    for (const leaf of leafPaths(mine.fieldsV1)) {
      if (!keep.has(leaf) && !others.has(leaf)) deleteAt(merged, leaf);
    }
    for (const k of ['labels', 'annotations'] as const) {
      const m = merged.metadata[k];
      if (m && Object.keys(m).length === 0) delete merged.metadata[k];
    }
  }
  if (opts.force && conflicts.length > 0) {
    const taken = new Set(conflicts.map((c) => c.field));
    merged.metadata.managedFields = entries.map((e) => {
      if (e === mine || !isObject(e.fieldsV1)) return e;
      const fields = structuredClone(e.fieldsV1);
      for (const leaf of taken) dropLeaf(fields, leaf);
      return { ...e, fieldsV1: fields };
    });
  } else merged.metadata.managedFields = entries;
  recordManager(
    merged,
    { manager: opts.manager, operation: 'Apply', apiVersion: apiVersionOf(type) },
    newFields,
  );
  return merged;
}
