import type { KubeObject, ListMeta } from '../api/types.ts';

export type { KubeObject, ListMeta, ObjectMeta } from '../api/types.ts';

/**
 * Names one REST resource: `/api/v1/namespaces/{ns}/pods` is
 * `{ group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' }`.
 * `kind` is what objects of the resource carry (and what create fills in when absent).
 */
export interface Resource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** `apiVersion` of a resource's objects: `v1` or `apps/v1`. */
export function apiVersionOf(r: Resource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** A stable string naming a resource, e.g. `apps/v1/deployments`, for maps and logs. */
export function resourceKey(r: Resource): string {
  return `${r.group || 'core'}/${r.version}/${r.resource}`;
}

/** One page of a list: the items and the collection's resourceVersion to watch from. */
export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

/** Selectors and paging shared by list and watch. Selectors use the Kubernetes string syntax. */
export interface ListOptions {
  /** Omit for all namespaces (or for cluster-scoped resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  /** "0" lets the server answer from any state; unset means most recent. */
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Changes after this version; "0" or unset start with the current state / from now, as upstream. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** Aborting ends the iteration cleanly (no error). */
  signal?: AbortSignal;
}

export interface WriteOptions {
  namespace?: string;
  dryRun?: boolean;
  fieldManager?: string;
  signal?: AbortSignal;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
  /** A subresource to patch, e.g. `status` or `scale`. */
  subresource?: string;
}

export interface DeleteOptions {
  namespace?: string;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  signal?: AbortSignal;
}

/**
 * One watch event. `BOOKMARK` carries only `metadata.resourceVersion`. An
 * `ERROR` event never reaches callers: the stream throws the mapped error
 * instead (GoneError for 410), so `object` is always a typed object.
 */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}

/** A Kubernetes `Status` (the body of every failed request). */
export interface Status {
  kind?: string;
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { reason?: string; field?: string; message?: string }[];
    retryAfterSeconds?: number;
  };
}
