import type { KubeObject } from './types.ts';

/** One validation failure, rendered by the API server as a Status cause. */
export interface FieldError {
  reason:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueDuplicate'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueTypeInvalid';
  field: string;
  message: string;
}

/** A Table column as `meta.k8s.io/v1` defines it; priority 1 shows only with `-o wide`. */
export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  priority?: number;
}

export type Cell = string | number | boolean | null;

export interface TablePrinter {
  columns: Column[];
  /** Cells in column order; `now` is injected so ages are testable. */
  row(obj: KubeObject, now: number): Cell[];
}

/** Where `/scale` reads and writes replicas for a scalable kind. */
export interface ScaleSpec {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  /** The label selector string reported in Scale.status.selector. */
  selector(obj: KubeObject): string;
}

/**
 * Per-kind behaviour plugged into the one generic REST mechanism. Every hook is
 * optional; the generic code handles metadata, storage, generation, subresource
 * splitting and errors.
 */
export interface Strategy {
  /** Fill upstream defaults in place (runs on create, update and patch results). */
  defaults?(obj: KubeObject): void;
  /** Return every problem found; `old` is set on updates (for immutable fields). */
  validate?(obj: KubeObject, old?: KubeObject): FieldError[];
  /** One-time changes on create after defaulting (e.g. Secret stringData → data). */
  prepareForCreate?(obj: KubeObject): void;
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  table?: TablePrinter;
  /** Extra field selectors beyond metadata.name/metadata.namespace. */
  fieldSelectors?: Record<string, (obj: KubeObject) => string | undefined>;
}

export type Scope = 'Namespaced' | 'Cluster';

/** The static description of one served resource (one kind in one group-version). */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  /** Plural resource name used in URLs. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Verbs besides the standard CRUD set; `readOnly` kinds serve only get/list/watch. */
  verbs?: string[];
  statusSubresource?: boolean;
  scale?: ScaleSpec;
  /** Extra subresources listed in discovery, served elsewhere (log, exec, eviction...). */
  extraSubresources?: { name: string; kind: string; group?: string; version?: string; verbs: string[] }[];
  /** Storage key segment; defaults to `plural`, or `<group>/<plural>` for custom resources. */
  storageResource?: string;
  /** Kinds whose spec changes bump metadata.generation (most kinds with a spec). */
  tracksGeneration?: boolean;
  /** Served only for `create` (reviews), not stored. */
  createOnly?: boolean;
  /** JSON schema (OpenAPI v3) of the whole object, if known (CRDs); used by explain and validation. */
  schema?: Record<string, unknown>;
  strategy: Strategy;
  /**
   * For a kind served in several versions over one storage form: converts this
   * version to the stored form and back (the stored form is another served version).
   */
  conversion?: { toStorage(obj: KubeObject): KubeObject; fromStorage(obj: KubeObject): KubeObject };
}

export const standardVerbs = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** `deployments.apps`, `pods`: the qualified resource used in Status messages. */
export function qualifiedResource(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

/** `Deployment.apps`: the qualified kind used in Invalid messages. */
export function qualifiedKind(t: Pick<ResourceType, 'group' | 'kind'>): string {
  return t.group === '' ? t.kind : `${t.kind}.${t.group}`;
}
