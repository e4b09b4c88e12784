import { randomUUID } from 'node:crypto';
import { isObject } from '../api/types.ts';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import type { Client, GetOptions } from './client.ts';
import { keyOf } from './client.ts';
import { GoneError } from './errors.ts';
import { jsonPatch, mergePatch } from './fake-patch.ts';
import { FakeWatch } from './fake-watch.ts';
import { compileSelector } from './selectors.ts';
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  Resource,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './types.ts';
import { apiVersionOf, resourceKey } from './types.ts';

/** One call a FakeClient received, in order; what controller table tests assert on. */
export interface Action {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  resource: string;
  namespace: string;
  name?: string;
  subresource?: string;
  /** The object sent (create/update/subresource writes), the patch (patch). */
  object?: unknown;
  patchType?: PatchType;
}

/**
 * Intercepts actions before the in-memory store: throw to fail the call,
 * return a value to answer it, or return undefined to fall through.
 */
export type Reactor = (action: Action) => unknown;

interface Change {
  resource: string;
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  old: KubeObject | undefined;
}

/**
 * An in-memory Client with API-server semantics controllers depend on:
 * resourceVersions from one counter, uid/creationTimestamp/generation, optimistic
 * concurrency, finalizers and deletionTimestamp, label and field selectors,
 * watch from any retained version (GoneError after `compact()`), the status,
 * binding, eviction and scale subresources, and a record of every action.
 * Strategic merge and apply patches behave as merge patches (see fake-patch.ts).
 * (One class past 400 lines: it is one in-memory API server, and its verbs share
 * the private store, history and watch bookkeeping; selectors, patches and the
 * watch queue already live in their own files.)
 */
export class FakeClient implements Client {
  readonly actions: Action[] = [];
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #history: Change[] = [];
  readonly #watches = new Set<FakeWatch>();
  readonly #reactors: Reactor[] = [];
  // Starts above 0: "0" means "any state" to watch and list, so no real version may be 0.
  #rv = 1;
  #compacted = 0;
  /** Injectable for deterministic timestamps. */
  now: () => Date = () => new Date();

  /**
   * Stores objects directly (no action recorded, watch events sent), for test
   * set-up. Unlike create, it keeps a given uid, creationTimestamp, generation
   * and deletionTimestamp, so tests can seed owner references and terminating objects.
   */
  seed(r: Resource, ...objs: KubeObject[]): void {
    for (const o of objs) this.#create(r, structuredClone(o), this.#ns(r, o.metadata.namespace), true);
  }

  addReactor(fn: Reactor): void {
    this.#reactors.push(fn);
  }

  clearActions(): void {
    this.actions.length = 0;
  }

  /** Writes only: what a controller test usually asserts on. */
  writes(): Action[] {
    return this.actions.filter((a) => a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch');
  }

  /** Forgets history up to now: watches from older versions fail with GoneError. */
  compact(): void {
    this.#compacted = this.#rv;
    this.#history.length = 0;
  }

  /** Ends every open watch as a server disconnect would (iteration ends without error). */
  closeWatches(): void {
    for (const w of this.#watches) w.end();
  }

  /**
   * Resolves once every open watch has handed out all its events and the
   * consumers have run (informer caches have caught up with the store).
   */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      await new Promise<void>((r) => setImmediate(r));
      let pending = 0;
      for (const w of this.#watches) pending += w.pending;
      quiet = pending === 0 ? quiet + 1 : 0;
    }
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  /** The current stored object (a copy), or undefined; does not record an action. */
  peek<T extends KubeObject>(r: Resource, key: string): T | undefined {
    const o = this.#bucket(r).get(key);
    return o ? (structuredClone(o) as T) : undefined;
  }

  async get<T extends KubeObject>(r: Resource, name: string, opts: GetOptions = {}): Promise<T> {
    const ns = this.#ns(r, opts.namespace);
    const hit = this.#react({ verb: 'get', resource: r.resource, namespace: ns, name });
    if (hit !== undefined) return hit as T;
    return structuredClone(this.#mustGet(r, ns, name)) as T;
  }

  async list<T extends KubeObject>(r: Resource, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const ns = this.#ns(r, opts.namespace);
    const hit = this.#react({ verb: 'list', resource: r.resource, namespace: ns });
    if (hit !== undefined) return hit as ObjectList<T>;
    const sel = compileSelector(opts);
    // Key order, as the server's store returns them. A continue token resumes
    // after its key in the current state (the server would use a snapshot).
    const after = opts.continue ? Buffer.from(opts.continue, 'base64url').toString('utf8') : '';
    const all = [...this.#bucket(r).values()]
      .filter((o) => (!ns || o.metadata.namespace === ns) && sel.matches(o) && keyOf(o) > after)
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    const page = opts.limit && opts.limit > 0 ? all.slice(0, opts.limit) : all;
    const metadata: ObjectList['metadata'] = { resourceVersion: String(this.#rv) };
    const last = page[page.length - 1];
    if (page.length < all.length && last) {
      metadata.continue = Buffer.from(keyOf(last)).toString('base64url');
      metadata.remainingItemCount = all.length - page.length;
    }
    return {
      apiVersion: apiVersionOf(r),
      kind: `${r.kind}List`,
      metadata,
      items: page.map((o) => structuredClone(o) as T),
    };
  }

  async create<T extends KubeObject>(r: Resource, obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = this.#ns(r, obj.metadata.namespace ?? opts.namespace);
    const action: Action = {
      verb: 'create',
      resource: r.resource,
      namespace: ns,
      name: obj.metadata.name,
      object: structuredClone(obj),
    };
    const hit = this.#react(action);
    if (hit !== undefined) return hit as T;
    return structuredClone(this.#create(r, structuredClone(obj), ns)) as T;
  }

  async update<T extends KubeObject>(r: Resource, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#update(r, obj, opts, undefined);
  }

  async updateStatus<T extends KubeObject>(r: Resource, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#update(r, obj, opts, 'status');
  }

  async patch<T extends KubeObject>(
    r: Resource,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    const ns = this.#ns(r, opts.namespace);
    const action: Action = {
      verb: 'patch',
      resource: r.resource,
      namespace: ns,
      name,
      object: structuredClone(patch),
      patchType: type,
    };
    if (opts.subresource) action.subresource = opts.subresource;
    const hit = this.#react(action);
    if (hit !== undefined) return hit as T;
    const old = this.#mustGet(r, ns, name);
    const base = structuredClone(old);
    const next = (type === 'json' ? jsonPatch(base, patch) : mergePatch(base, patch)) as KubeObject;
    if (!isObject(next) || !isObject(next.metadata))
      throw new InvalidError(`patching ${name}: result is not an object`);
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    // Through `status` only the status changes; otherwise everything but the status.
    if (opts.subresource === 'status') {
      const only = structuredClone(old);
      only.status = next.status;
      return structuredClone(this.#store(r, only, old)) as T;
    }
    if (hasStatus(r)) next.status = structuredClone(old.status);
    return structuredClone(this.#store(r, next, old)) as T;
  }

  async delete<T extends KubeObject>(
    r: Resource,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<T | undefined> {
    const ns = this.#ns(r, opts.namespace);
    const hit = this.#react({ verb: 'delete', resource: r.resource, namespace: ns, name });
    if (hit !== undefined) return hit as T;
    const old = this.#mustGet(r, ns, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw new ConflictError(`deleting ${name}: precondition failed: uid`);
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw new ConflictError(`deleting ${name}: precondition failed: resourceVersion`);
    }
    if (old.metadata.finalizers?.length) {
      if (old.metadata.deletionTimestamp) return structuredClone(old) as T;
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = this.now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? 0;
      return structuredClone(this.#store(r, next, old)) as T;
    }
    this.#remove(r, old);
    return structuredClone(old) as T;
  }

  watch<T extends KubeObject>(r: Resource, opts: WatchOptions = {}): AsyncIterable<WatchEvent<T>> {
    const ns = this.#ns(r, opts.namespace);
    this.#react({ verb: 'watch', resource: r.resource, namespace: ns });
    const sel = compileSelector(opts);
    const rk = resourceKey(r);
    const filter = (o: KubeObject) => (!ns || o.metadata.namespace === ns) && sel.matches(o);
    const w = new FakeWatch(rk, filter, opts.signal, () => this.#watches.delete(w));
    const rv = opts.resourceVersion;
    if (rv === '0') {
      for (const o of this.#bucket(r).values())
        if (filter(o)) w.push({ type: 'ADDED', object: structuredClone(o) });
    } else if (rv) {
      const from = Number(rv);
      if (from < this.#compacted) {
        w.fail(new GoneError(`watching ${r.resource}: too old resource version: ${rv} (${this.#compacted})`));
      } else {
        for (const c of this.#history) if (c.resource === rk && c.rv > from) w.offer(c.type, c.object, c.old);
      }
    }
    this.#watches.add(w);
    return w as AsyncIterable<WatchEvent<KubeObject>> as AsyncIterable<WatchEvent<T>>;
  }

  async getSubresource<T>(r: Resource, name: string, sub: string, opts: GetOptions = {}): Promise<T> {
    const ns = this.#ns(r, opts.namespace);
    const hit = this.#react({ verb: 'get', resource: r.resource, namespace: ns, name, subresource: sub });
    if (hit !== undefined) return hit as T;
    const obj = this.#mustGet(r, ns, name);
    if (sub === 'scale') return scaleOf(obj) as T;
    return structuredClone(obj) as T;
  }

  async createSubresource<T>(
    r: Resource,
    name: string,
    sub: string,
    body: KubeObject,
    opts: WriteOptions = {},
  ): Promise<T> {
    const ns = this.#ns(r, opts.namespace ?? body.metadata.namespace);
    const action: Action = {
      verb: 'create',
      resource: r.resource,
      namespace: ns,
      name,
      subresource: sub,
      object: structuredClone(body),
    };
    const hit = this.#react(action);
    if (hit !== undefined) return hit as T;
    const old = this.#mustGet(r, ns, name);
    if (sub === 'binding') {
      const spec = (old.spec ?? {}) as { nodeName?: string };
      if (spec.nodeName)
        throw new ConflictError(`binding pod ${name}: pod is already assigned to node "${spec.nodeName}"`);
      const next = structuredClone(old);
      next.spec = { ...next.spec, nodeName: (body as { target?: { name?: string } }).target?.name };
      this.#store(r, next, old);
    } else if (sub === 'eviction') {
      this.#remove(r, old);
    } else throw new InvalidError(`creating ${name}/${sub}: the fake client does not know this subresource`);
    return { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201, metadata: {} } as T;
  }

  async updateSubresource<T>(
    r: Resource,
    name: string,
    sub: string,
    body: KubeObject,
    opts: WriteOptions = {},
  ): Promise<T> {
    if (sub === 'status') {
      return (await this.#update(r, { ...body, metadata: { ...body.metadata, name } }, opts, 'status')) as T;
    }
    const ns = this.#ns(r, opts.namespace ?? body.metadata.namespace);
    const action: Action = {
      verb: 'update',
      resource: r.resource,
      namespace: ns,
      name,
      subresource: sub,
      object: structuredClone(body),
    };
    const hit = this.#react(action);
    if (hit !== undefined) return hit as T;
    if (sub !== 'scale')
      throw new InvalidError(`updating ${name}/${sub}: the fake client does not know this subresource`);
    const old = this.#mustGet(r, ns, name);
    const next = structuredClone(old);
    next.spec = { ...next.spec, replicas: (body.spec as { replicas?: number } | undefined)?.replicas };
    return scaleOf(this.#store(r, next, old)) as T;
  }

  close(): void {
    this.closeWatches();
  }

  async #update<T extends KubeObject>(
    r: Resource,
    obj: T,
    opts: WriteOptions,
    sub: 'status' | undefined,
  ): Promise<T> {
    const ns = this.#ns(r, obj.metadata.namespace ?? opts.namespace);
    const name = obj.metadata.name ?? '';
    const action: Action = {
      verb: 'update',
      resource: r.resource,
      namespace: ns,
      name,
      object: structuredClone(obj),
    };
    if (sub) action.subresource = sub;
    const hit = this.#react(action);
    if (hit !== undefined) return hit as T;
    const old = this.#mustGet(r, ns, name);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) {
      throw new ConflictError(
        `updating ${r.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const next = structuredClone(old);
    if (sub === 'status') next.status = structuredClone(obj.status);
    else Object.assign(next, structuredClone({ ...obj, status: hasStatus(r) ? old.status : obj.status }));
    return structuredClone(this.#store(r, next, old)) as T;
  }

  #create(r: Resource, obj: KubeObject, ns: string, keepIdentity = false): KubeObject {
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = m.generateName + randomUUID().slice(0, 5);
    if (!m.name) throw new InvalidError(`creating ${r.resource}: metadata.name: Required value`);
    if (r.namespaced && !ns)
      throw new InvalidError(`creating ${r.resource} ${m.name}: metadata.namespace: Required value`);
    if (ns) m.namespace = ns;
    if (this.#bucket(r).has(keyOf(obj))) {
      throw new AlreadyExistsError(`creating ${r.resource}: ${r.resource} "${m.name}" already exists`);
    }
    obj.apiVersion ??= apiVersionOf(r);
    obj.kind ??= r.kind;
    const now = this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    if (keepIdentity) {
      m.uid ??= randomUUID();
      m.creationTimestamp ??= now;
      m.generation ??= 1;
    } else {
      m.uid = randomUUID();
      m.creationTimestamp = now;
      m.generation = 1;
      delete m.deletionTimestamp;
    }
    return this.#store(r, obj, undefined);
  }

  #store(r: Resource, next: KubeObject, old: KubeObject | undefined): KubeObject {
    if (old && JSON.stringify(next.spec) !== JSON.stringify(old.spec)) {
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    // The last finalizer removed from an object being deleted: it goes away, as on the server.
    if (
      next.metadata.deletionTimestamp &&
      !next.metadata.finalizers?.length &&
      old?.metadata.finalizers?.length
    ) {
      this.#remove(r, next);
      return next;
    }
    next.metadata.resourceVersion = String(++this.#rv);
    this.#bucket(r).set(keyOf(next), next);
    this.#emit(r, old ? 'MODIFIED' : 'ADDED', next, old);
    return next;
  }

  #remove(r: Resource, obj: KubeObject): void {
    this.#bucket(r).delete(keyOf(obj));
    const gone = structuredClone(obj);
    gone.metadata.resourceVersion = String(++this.#rv);
    this.#emit(r, 'DELETED', gone, undefined);
  }

  #emit(r: Resource, type: Change['type'], obj: KubeObject, old: KubeObject | undefined): void {
    const c: Change = { resource: resourceKey(r), rv: this.#rv, type, object: structuredClone(obj), old };
    this.#history.push(c);
    for (const w of this.#watches) if (w.resource === c.resource) w.offer(type, c.object, old);
  }

  #react(action: Action): unknown {
    this.actions.push(action);
    for (const fn of this.#reactors) {
      const out = fn(action);
      if (out !== undefined) return structuredClone(out);
    }
    return undefined;
  }

  #mustGet(r: Resource, ns: string, name: string): KubeObject {
    const o = this.#bucket(r).get(ns ? `${ns}/${name}` : name);
    if (!o) throw new NotFoundError(`getting ${r.resource} "${name}": ${r.resource} "${name}" not found`);
    return o;
  }

  #bucket(r: Resource): Map<string, KubeObject> {
    const k = resourceKey(r);
    let b = this.#objects.get(k);
    if (!b) {
      b = new Map();
      this.#objects.set(k, b);
    }
    return b;
  }

  #ns(r: Resource, ns: string | undefined): string {
    return r.namespaced ? (ns ?? '') : '';
  }
}

/** Kinds whose `status` is a subresource: ordinary writes leave it alone. */
function hasStatus(r: Resource): boolean {
  return ![
    'configmaps',
    'secrets',
    'events',
    'leases',
    'serviceaccounts',
    'endpoints',
    'endpointslices',
  ].includes(r.resource);
}

function scaleOf(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      resourceVersion: obj.metadata.resourceVersion,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0 },
  };
}
