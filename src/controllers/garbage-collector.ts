import type { OwnerReference } from '../api/types.ts';
import {
  apiVersionOf,
  type DeleteOptions,
  type Informer,
  type KubeObject,
  type Resource,
  resourceKey,
  resources,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { newQueue } from './controller.ts';
import { type GraphNode, OwnerGraph } from './owner-graph.ts';
import { patchOwnerRefs } from './owner-refs.ts';

export const orphanFinalizer = 'orphan';
export const foregroundFinalizer = 'foregroundDeletion';

/** The resources the collector watches: every built-in one the client knows except Events. */
export function gcResources(): Resource[] {
  return Object.values(resources).filter((r) => r.resource !== 'events');
}

type OwnerState = 'present' | 'absent' | 'waiting';

/**
 * Upstream's garbage collector over an ownerReferences graph built from
 * informers. Queue keys are uids. Background: an object whose owners are all
 * gone is deleted. Foreground: an owner with the `foregroundDeletion`
 * finalizer has its dependents deleted first and loses the finalizer once no
 * dependent with blockOwnerDeletion is left. Orphan: an owner with the
 * `orphan` finalizer has itself removed from its dependents' ownerReferences,
 * then loses the finalizer.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 20;
  readonly informers: Informer[] = [];
  readonly graph = new OwnerGraph();
  readonly #ctx: ControllerContext;
  readonly #byResource = new Map<string, Informer>();
  readonly #byKind = new Map<string, Resource>();

  constructor(ctx: ControllerContext, monitored: Resource[] = gcResources()) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    for (const r of monitored) {
      const inf = ctx.informers.informerFor(r);
      this.informers.push(inf);
      this.#byResource.set(resourceKey(r), inf);
      this.#byKind.set(`${apiVersionOf(r)}|${r.kind}`, r);
      inf.addHandler({
        onAdd: (o) => this.#observe(r, undefined, o),
        onUpdate: (old, o) => this.#observe(r, old, o),
        onDelete: (o) => this.#deleted(o),
      });
    }
  }

  #observe(r: Resource, old: KubeObject | undefined, obj: KubeObject): void {
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    const uid = obj.metadata.uid;
    if (!uid) return;
    const prev = this.graph.upsert(r, obj);
    const fin = obj.metadata.finalizers ?? [];
    if (
      obj.metadata.deletionTimestamp &&
      (fin.includes(orphanFinalizer) || fin.includes(foregroundFinalizer))
    ) {
      this.queue.add(uid);
      // Dependents learn their owner is waiting for them.
      for (const d of this.graph.dependentsOf(uid)) this.queue.add(d);
    }
    const owners = obj.metadata.ownerReferences ?? [];
    if (
      owners.length > 0 &&
      (!prev || ownersChanged(prev.owners, owners) || owners.some((o) => !this.#alive(o.uid)))
    ) {
      this.queue.add(uid);
    }
    // An owner dropped from the list may be waiting for this dependent to go.
    for (const o of prev?.owners ?? []) if (!owners.some((n) => n.uid === o.uid)) this.queue.add(o.uid);
    if (obj.metadata.deletionTimestamp) for (const o of owners) this.queue.add(o.uid);
  }

  #deleted(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    this.graph.remove(uid);
    for (const d of this.graph.dependentsOf(uid)) this.queue.add(d);
    for (const o of obj.metadata.ownerReferences ?? []) this.queue.add(o.uid);
  }

  #alive(uid: string): boolean {
    const n = this.graph.get(uid);
    return Boolean(n && !n.deleting);
  }

  /** The cached object behind a graph node (undefined once it is gone). */
  #object(n: GraphNode): KubeObject | undefined {
    const key = n.namespace ? `${n.namespace}/${n.name}` : n.name;
    const obj = this.#byResource.get(resourceKey(n.resource))?.store.get(key);
    return obj?.metadata.uid === n.uid ? obj : undefined;
  }

  async reconcile(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    const obj = node && this.#object(node);
    if (!node || !obj) return;
    const fin = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp) {
      if (fin.includes(orphanFinalizer)) await this.#orphanDependents(node, obj);
      else if (fin.includes(foregroundFinalizer)) await this.#deleteDependentsFirst(node, obj);
      return;
    }
    const owners = obj.metadata.ownerReferences ?? [];
    if (owners.length === 0) return;
    const states = await Promise.all(owners.map((o) => this.#ownerState(o, node.namespace)));
    const solid = owners.filter((_, i) => states[i] === 'present');
    const dangling = owners.filter((_, i) => states[i] === 'absent');
    const waiting = owners.filter((_, i) => states[i] === 'waiting');
    if (solid.length > 0) {
      if (dangling.length === 0 && !waiting.some((o) => o.blockOwnerDeletion)) return;
      // Keep the live owners; stop blocking owners that are being deleted in the foreground.
      const keep = [...solid, ...waiting.map((o) => ({ ...o, blockOwnerDeletion: false }))];
      this.#ctx.log.debug(
        { uid, dangling: dangling.map((o) => o.uid) },
        'removing dangling owner references',
      );
      await ignoreNotFound(patchOwnerRefs(this.#ctx.client, node.resource, obj, keep));
      return;
    }
    // No live owner left: delete, in the foreground when an owner waits on our own dependents.
    const hasDependents = this.graph.dependentsOf(uid).length > 0;
    const policy =
      waiting.length > 0 && hasDependents
        ? 'Foreground'
        : fin.includes(orphanFinalizer)
          ? 'Orphan'
          : fin.includes(foregroundFinalizer)
            ? 'Foreground'
            : 'Background';
    this.#ctx.log.debug({ uid, name: node.name, policy }, 'deleting object whose owners are gone');
    await this.#delete(node, obj, policy);
  }

  async #ownerState(ref: OwnerReference, namespace: string): Promise<OwnerState> {
    const r = this.#byKind.get(`${ref.apiVersion}|${ref.kind}`);
    // An owner of a kind we do not watch cannot be checked: never collect on its account.
    if (!r) return 'present';
    const n = this.graph.get(ref.uid);
    const cached = n && this.#object(n);
    const obj =
      cached ??
      (await this.#ctx.client
        .get(r, ref.name, { namespace: r.namespaced ? namespace : undefined })
        .catch((err: unknown) => {
          if (err instanceof NotFoundError) return undefined;
          throw err;
        }));
    if (!obj || obj.metadata.uid !== ref.uid) return 'absent';
    if (obj.metadata.deletionTimestamp && obj.metadata.finalizers?.includes(foregroundFinalizer))
      return 'waiting';
    return 'present';
  }

  async #orphanDependents(node: GraphNode, owner: KubeObject): Promise<void> {
    for (const uid of this.graph.dependentsOf(node.uid)) {
      const dn = this.graph.get(uid);
      const dep = dn && this.#object(dn);
      if (!dn || !dep) continue;
      const refs = (dep.metadata.ownerReferences ?? []).filter((o) => o.uid !== node.uid);
      await ignoreNotFound(patchOwnerRefs(this.#ctx.client, dn.resource, dep, refs));
    }
    await this.#removeFinalizer(node, owner, orphanFinalizer);
  }

  async #deleteDependentsFirst(node: GraphNode, owner: KubeObject): Promise<void> {
    let blocking = 0;
    for (const uid of this.graph.dependentsOf(node.uid)) {
      const dn = this.graph.get(uid);
      const dep = dn && this.#object(dn);
      if (!dn || !dep) continue;
      const ref = dn.owners.find((o) => o.uid === node.uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (dep.metadata.deletionTimestamp) continue;
      const policy = this.graph.dependentsOf(uid).length > 0 ? 'Foreground' : 'Background';
      await this.#delete(dn, dep, policy);
    }
    if (blocking === 0) await this.#removeFinalizer(node, owner, foregroundFinalizer);
  }

  /**
   * Deletes with a propagation policy. The server does not add the orphan or
   * foregroundDeletion finalizer itself yet, so the collector adds it first.
   */
  async #delete(node: GraphNode, obj: KubeObject, policy: NonNullable<DeleteOptions['propagationPolicy']>) {
    const client = this.#ctx.client;
    const fin =
      policy === 'Orphan' ? orphanFinalizer : policy === 'Foreground' ? foregroundFinalizer : undefined;
    if (fin && !obj.metadata.finalizers?.includes(fin)) {
      const ops = [
        { op: 'test', path: '/metadata/uid', value: node.uid },
        { op: 'add', path: '/metadata/finalizers', value: [...(obj.metadata.finalizers ?? []), fin] },
      ];
      await ignoreNotFound(
        client.patch(node.resource, node.name, 'json', ops, { namespace: node.namespace || undefined }),
      );
    }
    await ignoreNotFound(
      client.delete(node.resource, node.name, {
        namespace: node.namespace || undefined,
        propagationPolicy: policy,
        preconditions: { uid: node.uid },
      }),
    );
  }

  async #removeFinalizer(node: GraphNode, obj: KubeObject, fin: string): Promise<void> {
    const ops = [
      { op: 'test', path: '/metadata/uid', value: node.uid },
      { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
      {
        op: 'replace',
        path: '/metadata/finalizers',
        value: (obj.metadata.finalizers ?? []).filter((f) => f !== fin),
      },
    ];
    this.#ctx.log.debug({ uid: node.uid, name: node.name, finalizer: fin }, 'removing finalizer');
    await ignoreNotFound(
      this.#ctx.client.patch(node.resource, node.name, 'json', ops, {
        namespace: node.namespace || undefined,
      }),
    );
  }
}

function ownersChanged(a: readonly OwnerReference[], b: readonly OwnerReference[]): boolean {
  return (
    a.length !== b.length ||
    a.some((o, i) => o.uid !== b[i]?.uid || o.blockOwnerDeletion !== b[i]?.blockOwnerDeletion)
  );
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

export const newGarbageCollector = (ctx: ControllerContext) => new GarbageCollector(ctx);
