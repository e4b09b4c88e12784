import { matchesLabels, type Requirement, selectorRequirements } from '../api/label-selector.ts';
import type { OwnerReference } from '../api/types.ts';
import type { Client, KubeObject, Resource } from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';

/** The owner reference with `controller: true`, if any. */
export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** Index function: objects by the uid of their controller (one shared function, so informers dedupe it). */
export const byControllerUid = (o: KubeObject): string[] => {
  const ref = controllerRef(o);
  return ref ? [ref.uid] : [];
};

/** A controller reference to `owner` (blocking its foreground deletion, as upstream sets it). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Requirements of a LabelSelector object; an absent selector matches nothing. */
export function selectorOf(sel: unknown): Requirement[] | undefined {
  if (typeof sel !== 'object' || sel === null) return undefined;
  return selectorRequirements(sel as Parameters<typeof selectorRequirements>[0]);
}

export function selects(reqs: Requirement[], obj: KubeObject): boolean {
  return reqs.length > 0 && matchesLabels(reqs, obj.metadata.labels);
}

export interface ClaimOptions<T extends KubeObject> {
  client: Client;
  /** The dependents' resource (pods, replicasets). */
  resource: Resource;
  owner: KubeObject;
  ownerRef: OwnerReference;
  selector: Requirement[];
  /** Candidates (from the cache, not modified). */
  candidates: readonly T[];
  /** Re-checks with a live read that the owner may adopt (same uid, not being deleted); throws if not. */
  canAdopt: () => Promise<void>;
}

/**
 * Upstream's ControllerRefManager: returns the dependents the owner controls
 * after adopting orphans its selector matches and releasing owned ones it no
 * longer matches. Objects owned by another controller are never touched.
 */
export async function claim<T extends KubeObject>(o: ClaimOptions<T>): Promise<T[]> {
  const out: T[] = [];
  const uid = o.owner.metadata.uid;
  const ownerDeleting = Boolean(o.owner.metadata.deletionTimestamp);
  let adoptChecked = false;
  for (const obj of o.candidates) {
    const ref = controllerRef(obj);
    const matches = selects(o.selector, obj);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || ownerDeleting) {
        out.push(obj);
        continue;
      }
      await release(o, obj);
      continue;
    }
    if (!matches || ownerDeleting || obj.metadata.deletionTimestamp) continue;
    if (!adoptChecked) {
      await o.canAdopt();
      adoptChecked = true;
    }
    const refs = [...(obj.metadata.ownerReferences ?? []), o.ownerRef];
    try {
      out.push(await patchOwnerRefs(o.client, o.resource, obj, refs));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return out;
}

async function release<T extends KubeObject>(o: ClaimOptions<T>, obj: T): Promise<void> {
  const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== o.owner.metadata.uid);
  try {
    await patchOwnerRefs(o.client, o.resource, obj, refs);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/**
 * Replaces `ownerReferences` with a JSON patch guarded by a uid test, so a
 * deleted-and-recreated object of the same name is never adopted by mistake.
 */
export function patchOwnerRefs<T extends KubeObject>(
  client: Client,
  r: Resource,
  obj: T,
  refs: OwnerReference[],
): Promise<T> {
  const ops: unknown[] = [{ op: 'test', path: '/metadata/uid', value: obj.metadata.uid }];
  if (refs.length > 0) ops.push({ op: 'add', path: '/metadata/ownerReferences', value: refs });
  else if (obj.metadata.ownerReferences) ops.push({ op: 'remove', path: '/metadata/ownerReferences' });
  return client.patch<T>(r, obj.metadata.name ?? '', 'json', ops, { namespace: obj.metadata.namespace });
}

/**
 * Whether pods made from `template` would be selected by `selector`. The API
 * server should refuse workloads where they would not (upstream does); a
 * controller that acted on one would create pods forever.
 */
export function selectsTemplate(
  reqs: Requirement[],
  template: { metadata?: { labels?: Record<string, string> } } | undefined,
): boolean {
  return reqs.length > 0 && matchesLabels(reqs, template?.metadata?.labels);
}
