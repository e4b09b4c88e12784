import type { Column, FieldError, ResourceType, TablePrinter } from '../resource.ts';
import { validateSchema } from '../schema-validation.ts';
import { age, ageColumn, col, nameColumn } from '../table-format.ts';
import { asArray, getPath, isObject, type JsonObject, type KubeObject } from '../types.ts';
import { invalid, required, validateMeta } from '../validation.ts';

export const customResourceDefinition: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  statusSubresource: true,
  tracksGeneration: true,
  storageResource: 'apiextensions.k8s.io/customresourcedefinitions',
  strategy: {
    validate: validateCrd,
    prepareForCreate(obj) {
      obj.status = crdStatus(obj);
    },
    prepareForUpdate(obj) {
      obj.status = crdStatus(obj);
    },
    table: {
      columns: [nameColumn, { name: 'Created At', type: 'date', description: 'creation time' }],
      row: (o) => [o.metadata.name ?? '', o.metadata.creationTimestamp ?? ''],
    },
  },
};

function validateCrd(obj: KubeObject): FieldError[] {
  const out = validateMeta(obj, 'subdomain');
  const spec = obj.spec ?? {};
  const group = spec.group;
  const plural = getPath(spec, ['names', 'plural']);
  if (typeof group !== 'string' || !group.includes('.'))
    out.push(invalid('spec.group', group ?? '', 'should be a domain with at least one dot'));
  if (typeof plural !== 'string' || plural === '') out.push(required('spec.names.plural'));
  if (!getPath(spec, ['names', 'kind'])) out.push(required('spec.names.kind'));
  if (obj.metadata.name !== `${String(plural)}.${String(group)}`) {
    out.push(invalid('metadata.name', obj.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (!['Namespaced', 'Cluster'].includes(String(spec.scope)))
    out.push(invalid('spec.scope', spec.scope ?? '', 'must be Namespaced or Cluster'));
  const versions = asArray(spec.versions);
  if (versions.length === 0) out.push(required('spec.versions'));
  if (versions.filter((v) => v.storage === true).length !== 1)
    out.push(invalid('spec.versions', '', 'must have exactly one version marked as storage version'));
  return out;
}

function crdStatus(obj: KubeObject): JsonObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const names = getPath(obj, ['spec', 'names']);
  const cond = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    acceptedNames: isObject(names) ? names : {},
    storedVersions: asArray(getPath(obj, ['spec', 'versions']))
      .filter((v) => v.storage === true)
      .map((v) => v.name),
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
  };
}

/** Evaluates the tiny JSONPath subset printer columns use: `.spec.a.b`. */
function jsonPathValue(obj: unknown, path: string): unknown {
  return getPath(
    obj,
    path
      .replace(/^\./, '')
      .split('.')
      .filter((p) => p !== ''),
  );
}

function printerTable(columns: JsonObject[]): TablePrinter {
  const cols: Column[] = [nameColumn];
  for (const c of columns) {
    const type = String(c.type ?? 'string');
    cols.push({
      ...col(String(c.name), typeof c.priority === 'number' ? c.priority : 0),
      type: type === 'date' ? 'string' : (type as Column['type']),
    });
  }
  const hasAge = columns.some((c) => String(c.jsonPath) === '.metadata.creationTimestamp');
  if (!hasAge) cols.push(ageColumn);
  return {
    columns: cols,
    row(o, now) {
      const cells: (string | number | boolean | null)[] = [o.metadata.name ?? ''];
      for (const c of columns) {
        const v = jsonPathValue(o, String(c.jsonPath ?? ''));
        if (c.type === 'date')
          cells.push(typeof v === 'string' ? age({ metadata: { creationTimestamp: v } }, now) : '<unknown>');
        else if (v === undefined || v === null) cells.push(null);
        else if (typeof v === 'object') cells.push(JSON.stringify(v));
        else cells.push(v as string | number | boolean);
      }
      if (!hasAge) cells.push(age(o, now));
      return cells;
    },
  };
}

/** The ResourceTypes a CRD serves: one per served version, stored under one key prefix. */
export function typesFromCrd(crd: KubeObject): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = isObject(spec.names) ? spec.names : {};
  const group = String(spec.group);
  const plural = String(names.plural);
  const out: ResourceType[] = [];
  for (const v of asArray(spec.versions)) {
    if (v.served === false) continue;
    const sub = isObject(v.subresources) ? v.subresources : {};
    const scale = isObject(sub.scale) ? sub.scale : undefined;
    const schema = getPath(v, ['schema', 'openAPIV3Schema']);
    out.push({
      group,
      version: String(v.name),
      kind: String(names.kind),
      plural,
      singular: String(names.singular ?? String(names.kind).toLowerCase()),
      namespaced: spec.scope === 'Namespaced',
      shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : undefined,
      categories: Array.isArray(names.categories) ? names.categories.map(String) : undefined,
      statusSubresource: isObject(sub.status),
      tracksGeneration: true,
      storageResource: `${group}/${plural}`,
      ...(isObject(schema) ? { schema } : {}),
      ...(scale
        ? {
            scale: {
              specReplicasPath: String(scale.specReplicasPath ?? '.spec.replicas')
                .replace(/^\./, '')
                .split('.'),
              statusReplicasPath: String(scale.statusReplicasPath ?? '.status.replicas')
                .replace(/^\./, '')
                .split('.'),
              selector: (o: KubeObject) =>
                scale.labelSelectorPath
                  ? String(jsonPathValue(o, String(scale.labelSelectorPath)) ?? '')
                  : '',
            },
          }
        : {}),
      strategy: {
        validate(o) {
          const out = validateMeta(o, 'subdomain');
          if (!isObject(schema)) return out;
          const { metadata: _m, apiVersion: _a, kind: _k, ...body } = o;
          const props = isObject(schema.properties) ? schema.properties : {};
          const { metadata: _pm, apiVersion: _pa, kind: _pk, ...rest } = props;
          return [...out, ...validateSchema({ ...schema, properties: rest }, body)];
        },
        table: printerTable(asArray(v.additionalPrinterColumns)),
      },
    });
  }
  return out;
}
