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

export interface GetOptions {
  namespace?: string;
  signal?: AbortSignal;
}

/**
 * The one generic way to reach the API: every verb takes the `Resource` it
 * acts on, so new kinds and CRDs need no new code. Implementations: HttpClient
 * (HTTPS to an API server) and FakeClient (in memory, for tests).
 *
 * Contract, for every implementation:
 * - Objects returned are fresh copies owned by the caller.
 * - Namespaced writes take the namespace from `obj.metadata.namespace`, else
 *   from `opts.namespace`; reads and deletes from `opts.namespace`.
 * - Failures are lib/errors classes (NotFoundError, AlreadyExistsError,
 *   ConflictError, InvalidError, UnauthorizedError, ForbiddenError,
 *   UnavailableError) or GoneError, with the server's Status reachable through
 *   `statusOf(err)`. Connection failures and 5xx are UnavailableError.
 * - `watch` yields events until the server ends the stream (resolve: iterate
 *   again from the last seen resourceVersion), the signal aborts (ends without
 *   error), or an error: GoneError means "list again", anything else means
 *   "back off and watch again".
 */
export interface Client {
  get<T extends KubeObject = KubeObject>(r: Resource, name: string, opts?: GetOptions): Promise<T>;
  list<T extends KubeObject = KubeObject>(r: Resource, opts?: ListOptions): Promise<ObjectList<T>>;
  create<T extends KubeObject>(r: Resource, obj: T, opts?: WriteOptions): Promise<T>;
  /** Replaces the object; `metadata.resourceVersion` (when set) must match or ConflictError. */
  update<T extends KubeObject>(r: Resource, obj: T, opts?: WriteOptions): Promise<T>;
  /** Replaces only `.status` (the status subresource). */
  updateStatus<T extends KubeObject>(r: Resource, obj: T, opts?: WriteOptions): Promise<T>;
  /**
   * `merge` (RFC 7386), `strategic` (Kubernetes strategic merge), `json`
   * (RFC 6902, `patch` is the operation array) or `apply` (server-side apply;
   * needs `opts.fieldManager`).
   */
  patch<T extends KubeObject = KubeObject>(
    r: Resource,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: PatchOptions,
  ): Promise<T>;
  /**
   * Returns the object when the server answers with one (deleted, or still being
   * deleted because of finalizers or a grace period), undefined when it answers a Status.
   */
  delete<T extends KubeObject = KubeObject>(
    r: Resource,
    name: string,
    opts?: DeleteOptions,
  ): Promise<T | undefined>;
  watch<T extends KubeObject = KubeObject>(r: Resource, opts?: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /** GET `{name}/{subresource}` (e.g. `scale`). */
  getSubresource<T = KubeObject>(
    r: Resource,
    name: string,
    subresource: string,
    opts?: GetOptions,
  ): Promise<T>;
  /** POST a body to `{name}/{subresource}` (`binding`, `eviction`). */
  createSubresource<T = KubeObject>(
    r: Resource,
    name: string,
    subresource: string,
    body: KubeObject,
    opts?: WriteOptions,
  ): Promise<T>;
  /** PUT a body to `{name}/{subresource}` (`scale`, `status`). */
  updateSubresource<T = KubeObject>(
    r: Resource,
    name: string,
    subresource: string,
    body: KubeObject,
    opts?: WriteOptions,
  ): Promise<T>;
  /** Releases connections; the client is unusable afterwards. */
  close(): void;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key of caches and workqueues. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

/** Splits a key from `keyOf` back into namespace ('' when cluster-scoped) and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
