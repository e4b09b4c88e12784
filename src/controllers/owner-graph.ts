import type { OwnerReference } from '../api/types.ts';
import type { KubeObject, Resource } from '../client/index.ts';

/** One object the garbage collector has seen: where it lives and whom it names as owners. */
export interface GraphNode {
  uid: string;
  resource: Resource;
  namespace: string;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

/**
 * The ownerReferences graph: objects by uid and, for every owner uid (seen or
 * not), the uids of its dependents. Fed by informer events; read by the
 * garbage collector's reconcile.
 */
export class OwnerGraph {
  readonly #nodes = new Map<string, GraphNode>();
  readonly #dependents = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.#nodes.get(uid);
  }

  /** The uids of objects naming `uid` as an owner. */
  dependentsOf(uid: string): string[] {
    return [...(this.#dependents.get(uid) ?? [])];
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** Records `obj`; returns its previous node. */
  upsert(resource: Resource, obj: KubeObject): GraphNode | undefined {
    const uid = obj.metadata.uid;
    if (!uid) return undefined;
    const prev = this.#nodes.get(uid);
    if (prev) for (const o of prev.owners) this.#dependents.get(o.uid)?.delete(uid);
    const node: GraphNode = {
      uid,
      resource,
      namespace: obj.metadata.namespace ?? '',
      name: obj.metadata.name ?? '',
      owners: [...(obj.metadata.ownerReferences ?? [])],
      deleting: Boolean(obj.metadata.deletionTimestamp),
      finalizers: [...(obj.metadata.finalizers ?? [])],
    };
    this.#nodes.set(uid, node);
    for (const o of node.owners) {
      let deps = this.#dependents.get(o.uid);
      if (!deps) {
        deps = new Set();
        this.#dependents.set(o.uid, deps);
      }
      deps.add(uid);
    }
    return prev;
  }

  /** Forgets `uid` (its dependents stay indexed under it until they change). */
  remove(uid: string): GraphNode | undefined {
    const prev = this.#nodes.get(uid);
    if (!prev) return undefined;
    this.#nodes.delete(uid);
    for (const o of prev.owners) {
      const deps = this.#dependents.get(o.uid);
      deps?.delete(uid);
      if (deps?.size === 0) this.#dependents.delete(o.uid);
    }
    return prev;
  }
}
