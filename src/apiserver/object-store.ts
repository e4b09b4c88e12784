import { randomUUID } from 'node:crypto';
import { apiVersionOf, qualifiedKind, qualifiedResource, type ResourceType } from '../api/resource.ts';
import { isObject, type KubeObject } from '../api/types.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../lib/errors.ts';
import type { KeyValue, Store } from '../storage/store.ts';
import { recordUpdate } from './managed-fields.ts';
import { ApiError, invalidStatus } from './status.ts';

/** Checks and side effects around writes (namespace lifecycle, IP allocation...). */
export interface Admission {
  admit(req: AdmissionRequest): Promise<void>;
  /** Before a delete is carried out; throw to refuse it. */
  admitDelete?(type: ResourceType, obj: KubeObject): Promise<void>;
  /** After an object is removed from storage (release what it held). */
  released?(type: ResourceType, obj: KubeObject): Promise<void>;
}

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE';
  type: ResourceType;
  obj: KubeObject;
  old?: KubeObject;
  dryRun: boolean;
  subresource?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Set by the apply handler: record an Apply entry instead of Update. */
  operation?: 'Apply' | 'Update';
  subresource?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const nameChars = 'bcdfghjklmnpqrstvwxz2456789';
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The one generic storage layer for every kind (upstream's registry.Store):
 * keys, JSON encoding, metadata (uid, timestamps, generation,
 * resourceVersion = the store's modRevision), defaulting, validation,
 * status/spec split, admission, finalizers and graceful deletion. Kinds differ
 * only through their `Strategy`.
 */
export class ObjectStore {
  readonly store: Store;
  readonly #admission: Admission[];

  readonly #gcFinalizers: boolean;

  /**
   * `gcFinalizers`: a garbage collector runs, so deletes with propagationPolicy
   * Foreground or Orphan add its `foregroundDeletion` / `orphan` finalizer
   * (without one they delete at once, as nothing would remove the finalizer).
   */
  constructor(store: Store, admission: Admission[] = [], options: { gcFinalizers?: boolean } = {}) {
    this.store = store;
    this.#admission = admission;
    this.#gcFinalizers = options.gcFinalizers === true;
  }

  /** `/registry/<resource>/` plus `<namespace>/` when given. */
  prefix(type: ResourceType, namespace?: string): string {
    const res = type.storageResource ?? type.plural;
    return type.namespaced && namespace ? `/registry/${res}/${namespace}/` : `/registry/${res}/`;
  }

  key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${this.prefix(type, type.namespaced ? namespace : undefined)}${name}`;
  }

  decode(kv: KeyValue): KubeObject {
    const obj = JSON.parse(Buffer.from(kv.value).toString('utf8')) as KubeObject;
    obj.metadata.resourceVersion = String(kv.modRevision);
    return obj;
  }

  /** Decodes a stored value into `type`'s version (converting when the kind has several). */
  decodeAs(type: ResourceType, kv: KeyValue): KubeObject {
    const obj = this.decode(kv);
    return type.conversion ? type.conversion.fromStorage(obj) : obj;
  }

  #encode(type: ResourceType, obj: KubeObject): Uint8Array {
    const stored = type.conversion ? type.conversion.toStorage(obj) : obj;
    const { resourceVersion: _rv, ...meta } = stored.metadata;
    return Buffer.from(JSON.stringify({ ...stored, metadata: meta }));
  }

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.store.get(this.key(type, namespace, name));
    if (!kv) throw new NotFoundError(`${qualifiedResource(type)} "${name}" not found`);
    return this.decodeAs(type, kv);
  }

  async tryGet(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined> {
    const kv = await this.store.get(this.key(type, namespace, name));
    return kv ? this.decodeAs(type, kv) : undefined;
  }

  async create(type: ResourceType, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const obj = structuredClone(input);
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    const meta = obj.metadata;
    if (!type.namespaced) delete meta.namespace;
    for (const k of [
      'uid',
      'resourceVersion',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ] as const)
      delete meta[k];
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    if (type.tracksGeneration) meta.generation = 1;
    // Status is the controllers' to write; custom resources start without one.
    if (type.statusSubresource && type.schema) delete obj.status;
    else if (type.statusSubresource) obj.status = {};
    type.strategy.defaults?.(obj);
    type.strategy.prepareForCreate?.(obj);
    const generate = !meta.name && meta.generateName;
    for (let attempt = 0; ; attempt++) {
      if (generate) meta.name = generateName(String(meta.generateName));
      this.#validate(type, obj);
      await this.#admit({ operation: 'CREATE', type, obj, dryRun: opts.dryRun === true });
      this.#recordWrite(type, obj, opts);
      if (opts.dryRun) return { ...obj, metadata: { ...obj.metadata } };
      try {
        const kv = await this.store.create(
          this.key(type, meta.namespace, meta.name ?? ''),
          this.#encode(type, obj),
        );
        obj.metadata.resourceVersion = String(kv.modRevision);
        return obj;
      } catch (err) {
        // Give back what admission allocated for the write that did not happen.
        for (const a of this.#admission) await a.released?.(type, obj);
        if (err instanceof AlreadyExistsError && generate && attempt < 7) continue;
        if (err instanceof AlreadyExistsError) {
          const name = meta.name ?? '';
          throw new ApiError(409, 'AlreadyExists', `${qualifiedResource(type)} "${name}" already exists`, {
            name,
            group: type.group,
            kind: type.plural,
          });
        }
        throw err;
      }
    }
  }

  /**
   * Read-modify-write with compare-and-swap. `mutate` gets a copy of the
   * current object (undefined when absent) and returns the desired one. A
   * stale `metadata.resourceVersion` in the result is a 409; without one the
   * loop retries on concurrent writes.
   */
  async update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & { allowCreate?: boolean } = {},
  ): Promise<{ obj: KubeObject; created: boolean }> {
    const key = this.key(type, namespace, name);
    for (;;) {
      const kv = await this.store.get(key);
      const current = kv ? this.decodeAs(type, kv) : undefined;
      const desired = await mutate(current ? structuredClone(current) : undefined);
      if (!kv || !current) {
        if (!opts.allowCreate) throw new NotFoundError(`${qualifiedResource(type)} "${name}" not found`);
        desired.metadata.name ??= name;
        if (type.namespaced) desired.metadata.namespace ??= namespace;
        return { obj: await this.create(type, desired, opts), created: true };
      }
      const wantRv = desired.metadata.resourceVersion;
      if (wantRv && wantRv !== String(kv.modRevision))
        throw new ConflictError(`updating ${key}: stale resourceVersion`);
      const obj = this.#prepareUpdate(type, desired, current, opts);
      await this.#admit({
        operation: 'UPDATE',
        type,
        obj,
        old: current,
        dryRun: opts.dryRun === true,
        subresource: opts.subresource,
      });
      if (
        obj.metadata.deletionTimestamp &&
        (obj.metadata.finalizers ?? []).length === 0 &&
        current.metadata.deletionTimestamp
      ) {
        if (opts.dryRun) return { obj, created: false };
        const gone = await this.#remove(type, key, kv.modRevision, obj);
        if (gone) return { obj: gone, created: false };
        continue;
      }
      if (opts.dryRun) return { obj, created: false };
      if (canonicalJson(this.#encodeComparable(obj)) === canonicalJson(this.#encodeComparable(current))) {
        return { obj: current, created: false };
      }
      try {
        const written = await this.store.update(key, this.#encode(type, obj), kv.modRevision);
        obj.metadata.resourceVersion = String(written.modRevision);
        return { obj, created: false };
      } catch (err) {
        if (err instanceof ConflictError && !wantRv) continue;
        throw err;
      }
    }
  }

  /** What makes a write a no-op: everything but the RV and managedFields timestamps. */
  #encodeComparable(o: KubeObject): unknown {
    const { resourceVersion: _rv, managedFields, ...meta } = o.metadata;
    const owners = (managedFields ?? []).map(({ time: _t, ...e }) => e);
    return { ...o, metadata: { ...meta, managedFields: owners } };
  }

  #prepareUpdate(
    type: ResourceType,
    desired: KubeObject,
    current: KubeObject,
    opts: WriteOptions,
  ): KubeObject {
    let obj: KubeObject;
    if (opts.subresource === 'status') {
      obj = structuredClone(current);
      obj.status = desired.status;
    } else {
      obj = desired;
      if (type.statusSubresource) {
        if (current.status === undefined) delete obj.status;
        else obj.status = current.status;
      }
    }
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    const meta = obj.metadata;
    // Fields the server owns cannot be changed by clients.
    meta.name = current.metadata.name;
    if (type.namespaced) meta.namespace = current.metadata.namespace;
    else delete meta.namespace;
    meta.uid = current.metadata.uid;
    // Omitted managedFields keep the current ones; an explicit list replaces them.
    if (meta.managedFields === undefined && current.metadata.managedFields)
      meta.managedFields = current.metadata.managedFields;
    meta.creationTimestamp = current.metadata.creationTimestamp;
    meta.deletionTimestamp = current.metadata.deletionTimestamp;
    meta.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
    if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
    if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
    if (current.metadata.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalidStatus(qualifiedKind(type), meta.name ?? '', type.group, [
          {
            reason: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          },
        ]);
      }
    }
    if (opts.subresource !== 'status') {
      type.strategy.defaults?.(obj);
      type.strategy.prepareForUpdate?.(obj, current);
    }
    if (type.tracksGeneration) {
      const gen = current.metadata.generation ?? 1;
      meta.generation = specChanged(obj, current) ? gen + 1 : gen;
    } else delete meta.generation;
    this.#validate(type, obj, current);
    this.#recordWrite(type, obj, opts, current);
    return obj;
  }

  async #admit(req: AdmissionRequest): Promise<void> {
    for (const a of this.#admission) await a.admit(req);
  }

  #validate(type: ResourceType, obj: KubeObject, old?: KubeObject): void {
    const errs = type.strategy.validate?.(obj, old) ?? [];
    if (errs.length > 0) throw invalidStatus(qualifiedKind(type), obj.metadata.name ?? '', type.group, errs);
  }

  #recordWrite(type: ResourceType, obj: KubeObject, opts: WriteOptions, old?: KubeObject): void {
    if (!opts.fieldManager || opts.operation === 'Apply') return;
    // A client that rewrites managedFields itself (kubectl's client-side-apply
    // upgrade) gets exactly what it sent.
    if (
      old &&
      canonicalJson(obj.metadata.managedFields ?? []) !== canonicalJson(old.metadata.managedFields ?? [])
    )
      return;
    const entry = {
      manager: opts.fieldManager,
      operation: 'Update' as const,
      apiVersion: apiVersionOf(type),
      subresource: opts.subresource,
    };
    if (!entry.subresource) delete entry.subresource;
    recordUpdate(obj, old, entry);
  }

  /**
   * Deletes per upstream rules: preconditions, graceful pod deletion,
   * finalizers (sets deletionTimestamp and keeps the object). Returns the
   * object and whether it is gone from storage.
   */
  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<{ obj: KubeObject; deleted: boolean }> {
    const key = this.key(type, namespace, name);
    for (;;) {
      const kv = await this.store.get(key);
      if (!kv) throw new NotFoundError(`${qualifiedResource(type)} "${name}" not found`);
      const obj = this.decodeAs(type, kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== obj.metadata.uid) {
        throw new ApiError(
          409,
          'Conflict',
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid ?? ''}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
        throw new ApiError(
          409,
          'Conflict',
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion ?? ''}`,
        );
      }
      for (const a of this.#admission) await a.admitDelete?.(type, obj);
      const grace = this.#gracePeriod(type, obj, opts);
      const gcFinalizer = this.#gcFinalizers
        ? { Foreground: 'foregroundDeletion', Orphan: 'orphan' }[opts.propagationPolicy ?? '']
        : undefined;
      const finalizers = obj.metadata.finalizers ?? [];
      const addFinalizer =
        gcFinalizer !== undefined && !finalizers.includes(gcFinalizer) && !obj.metadata.deletionTimestamp;
      const pendingFinalizers =
        finalizers.length > 0 || addFinalizer || (type.kind === 'Namespace' && type.group === '');
      if (pendingFinalizers || grace > 0) {
        const marked = structuredClone(obj);
        if (addFinalizer && gcFinalizer) marked.metadata.finalizers = [...finalizers, gcFinalizer];
        const at = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        if (
          !marked.metadata.deletionTimestamp ||
          (grace > 0 && (marked.metadata.deletionGracePeriodSeconds ?? Infinity) > grace)
        ) {
          marked.metadata.deletionTimestamp = at;
          marked.metadata.deletionGracePeriodSeconds = grace;
        }
        if (type.kind === 'Namespace' && type.group === '')
          marked.status = { ...marked.status, phase: 'Terminating' };
        if (opts.dryRun) return { obj: marked, deleted: false };
        try {
          const updated = await this.store.update(key, this.#encode(type, marked), kv.modRevision);
          return { obj: this.decodeAs(type, updated), deleted: false };
        } catch (err) {
          if (err instanceof ConflictError) continue;
          throw err;
        }
      }
      if (opts.dryRun) return { obj, deleted: true };
      const gone = await this.#remove(type, key, kv.modRevision, obj);
      if (gone) return { obj: gone, deleted: true };
    }
  }

  async #remove(
    type: ResourceType,
    key: string,
    rev: number,
    obj: KubeObject,
  ): Promise<KubeObject | undefined> {
    try {
      const kv = await this.store.delete(key, rev);
      const out = this.decodeAs(type, kv);
      for (const a of this.#admission) await a.released?.(type, out);
      return out;
    } catch (err) {
      if (err instanceof ConflictError) return undefined;
      if (err instanceof NotFoundError)
        throw new NotFoundError(`${qualifiedResource(type)} "${obj.metadata.name ?? ''}" not found`);
      throw err;
    }
  }

  #gracePeriod(type: ResourceType, obj: KubeObject, opts: DeleteOptions): number {
    if (type.kind !== 'Pod' || type.group !== '') return 0;
    const spec = isObject(obj.spec) ? obj.spec : {};
    const phase = isObject(obj.status) ? obj.status.phase : undefined;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    if (opts.gracePeriodSeconds !== undefined) return Math.max(0, opts.gracePeriodSeconds);
    return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
  }
}

/** True when anything outside metadata and status differs (what bumps generation). */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };
  return canonicalJson(strip(a)) !== canonicalJson(strip(b));
}

/** JSON with object keys sorted, so equal trees compare equal whatever their key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    isObject(val)
      ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

export function generateName(prefix: string): string {
  let s = prefix.slice(0, 58);
  for (let i = 0; i < 5; i++) s += nameChars[Math.floor(Math.random() * nameChars.length)];
  return s;
}
