import type { Column, ResourceType, TablePrinter } from '../api/resource.ts';
import type { KubeObject, ListMeta } from '../api/types.ts';
import { badRequest } from './status.ts';

const defaultPrinter: TablePrinter = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' },
    { name: 'Created At', type: 'date', description: 'CreationTimestamp of the object.' },
  ],
  row: (o) => [o.metadata.name ?? '', o.metadata.creationTimestamp ?? ''],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(v: string | null): IncludeObject {
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`unsupported includeObject value: "${v}"`);
}

function embedded(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function rowConditions(type: ResourceType, obj: KubeObject): unknown[] | undefined {
  if (type.kind === 'Pod' && type.group === '') {
    const phase = obj.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      return [
        {
          type: 'Completed',
          status: 'True',
          reason: String(phase),
          message: 'The pod has completed successfully.',
        },
      ];
    }
  }
  return undefined;
}

/** A meta.k8s.io/v1 Table for `kubectl get`, rendered with the kind's printer. */
export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  opts: { include: IncludeObject; listMeta: ListMeta; noHeaders?: boolean; now?: number },
): Record<string, unknown> {
  const printer = type.strategy.table ?? defaultPrinter;
  const now = opts.now ?? Date.now();
  const columns: Column[] = printer.columns.map((c) => ({ format: '', description: '', priority: 0, ...c }));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.listMeta,
    ...(opts.noHeaders ? {} : { columnDefinitions: columns }),
    rows: objects.map((o) => {
      const conditions = rowConditions(type, o);
      return {
        cells: printer.row(o, now),
        ...(conditions ? { conditions } : {}),
        object: embedded(o, opts.include),
      };
    }),
  };
}
