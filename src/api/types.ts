/**
 * Minimal Kubernetes object shapes shared by every kind. Kind-specific fields are
 * reached through `KubeObject`'s open index signature: the API server treats
 * objects as JSON trees and each kind's strategy reads only what it needs.
 * (@kubernetes/client-node's types were considered; its class-based models pull
 * in far more than the few fields the strategies touch.)
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** A JSON value as it appears in an object tree. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Plain JSON object; the common case when walking manifests. */
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a nested path (`['spec', 'template', 'spec']`) without throwing. */
export function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Returns the object at `path`, creating empty objects along the way. */
export function ensurePath(obj: JsonObject, path: readonly string[]): JsonObject {
  let cur = obj;
  for (const p of path) {
    const next = cur[p];
    if (isObject(next)) cur = next;
    else {
      const created: JsonObject = {};
      cur[p] = created;
      cur = created;
    }
  }
  return cur;
}

/** Sets `obj[key] = value` only when the key is absent (upstream defaulting). */
export function setDefault(obj: JsonObject, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

export function asArray(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The object's spec, created empty when absent (for defaulting). */
export function specOf(obj: KubeObject): JsonObject {
  if (!isObject(obj.spec)) obj.spec = {};
  return obj.spec;
}
