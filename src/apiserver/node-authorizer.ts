/**
 * The Node authorizer (upstream's Node authorization mode plus the
 * NodeRestriction admission's name checks, reduced): a node's credential
 * (`system:node:<name>` in group `system:nodes`) may read what a kubelet
 * reads, write its own Node and its own Lease, write the status of and
 * delete the pods bound to it, and record Events. Anything else it asks is
 * refused; every other user is left to the inner authorizer.
 *
 * Not checked (no request body reaches an authorizer): the name of a Node or
 * Lease being created, which upstream's NodeRestriction admission checks.
 * Reads are not narrowed to the node's own pods' Secrets and ConfigMaps.
 */
import type { KubeObject } from '../api/types.ts';
import type { Attributes, Authorizer, Decision } from './auth.ts';

export const nodesGroup = 'system:nodes';
export const nodeUserPrefix = 'system:node:';

const readVerbs = new Set(['get', 'list', 'watch']);
const writeVerbs = new Set(['update', 'patch', 'delete']);

/** The node a user is, if it is one. */
export function nodeNameOf(user: { name: string; groups: string[] }): string | undefined {
  if (!user.groups.includes(nodesGroup) || !user.name.startsWith(nodeUserPrefix)) return undefined;
  return user.name.slice(nodeUserPrefix.length) || undefined;
}

export interface NodeAuthorizerOptions {
  /** Reads a pod (undefined when it does not exist). */
  pod(namespace: string, name: string): Promise<KubeObject | undefined>;
}

export function nodeAuthorizer(inner: Authorizer, o: NodeAuthorizerOptions): Authorizer {
  return {
    authorize(a: Attributes): Promise<Decision> | Decision {
      const node = nodeNameOf(a.user);
      if (node === undefined) return inner.authorize(a);
      return decide(node, a, o);
    },
    rulesFor: inner.rulesFor ? (user, ns) => inner.rulesFor!(user, ns) : undefined,
  };
}

const allow: Decision = { allowed: true };
const deny = (node: string, why: string): Decision => ({
  allowed: false,
  reason: `node "${node}" ${why}`,
});

async function decide(node: string, a: Attributes, o: NodeAuthorizerOptions): Promise<Decision> {
  if (a.path !== undefined)
    return readVerbs.has(a.verb) ? allow : deny(node, 'may only read non-resource paths');
  if (readVerbs.has(a.verb) && !a.subresource) return allow;
  const group = a.group ?? '';
  const resource = a.resource ?? '';
  if (group === '' && resource === 'nodes') {
    if (a.verb === 'create') return allow;
    if (writeVerbs.has(a.verb) || readVerbs.has(a.verb))
      return a.name === node ? allow : deny(node, `may not modify node "${a.name ?? ''}"`);
  }
  if (group === 'coordination.k8s.io' && resource === 'leases' && a.namespace === 'kube-node-lease') {
    if (a.verb === 'create') return allow;
    if (writeVerbs.has(a.verb))
      return a.name === node ? allow : deny(node, `may not modify lease "${a.name ?? ''}"`);
  }
  if (group === '' && resource === 'pods' && a.name) {
    const statusWrite = a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch');
    const del = !a.subresource && a.verb === 'delete';
    const evict = a.subresource === 'eviction' && a.verb === 'create';
    if (statusWrite || del || evict) {
      const pod = await o.pod(a.namespace ?? 'default', a.name);
      const boundTo = (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
      // A pod that is already gone: nothing to protect, let the request report NotFound.
      if (!pod || boundTo === node) return allow;
      return deny(node, `may not modify pod "${a.name}" bound to node "${boundTo ?? ''}"`);
    }
  }
  if ((group === '' || group === 'events.k8s.io') && resource === 'events') {
    if (a.verb === 'create' || a.verb === 'update' || a.verb === 'patch') return allow;
  }
  if (group === 'authorization.k8s.io' || group === 'authentication.k8s.io') {
    if (a.verb === 'create' && resource.startsWith('self')) return allow;
  }
  const what = a.subresource ? `${resource}/${a.subresource}` : resource;
  return deny(node, `may not ${a.verb} ${what}${group ? `.${group}` : ''}`);
}
