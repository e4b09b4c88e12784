/**
 * LoadBalancer Services the way k3s's servicelb serves them: every node opens
 * the Service's ports on its own addresses (beside the NodePort), and
 * status.loadBalancer lists the nodes' addresses. Two Services wanting the
 * same protocol and port on the nodes: the older one gets it (as servicelb,
 * where the younger one's pods stay Pending); node ports always win.
 */
import type { Client, Node } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { isProxied } from './model.ts';
import type { Service } from './types.ts';

const keyOf = (s: Service) => `${s.metadata.namespace}/${s.metadata.name}`;

/** Service key → the `proto . port` keys it holds on the node addresses. */
export function loadBalancerClaims(services: Service[]): Map<string, Set<string>> {
  const taken = new Set<string>();
  const lbs: Service[] = [];
  for (const s of services) {
    if (!isProxied(s) || (s.spec?.type !== 'NodePort' && s.spec?.type !== 'LoadBalancer')) continue;
    for (const p of s.spec.ports ?? [])
      if (p.nodePort) taken.add(`${(p.protocol ?? 'TCP').toLowerCase()} . ${p.nodePort}`);
    if (s.spec.type === 'LoadBalancer') lbs.push(s);
  }
  lbs.sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    return ta === tb ? (keyOf(a) < keyOf(b) ? -1 : 1) : ta < tb ? -1 : 1;
  });
  const out = new Map<string, Set<string>>();
  for (const s of lbs) {
    const mine = new Set<string>();
    for (const p of s.spec?.ports ?? []) {
      const k = `${(p.protocol ?? 'TCP').toLowerCase()} . ${p.port}`;
      if (taken.has(k)) continue;
      taken.add(k);
      mine.add(k);
    }
    if (mine.size > 0) out.set(keyOf(s), mine);
  }
  return out;
}

/** The addresses every node serves LoadBalancer ports on: each node's InternalIP, sorted. */
export function loadBalancerIngress(nodes: Node[]): { ip: string }[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const a = n.status?.addresses?.find((x) => x.type === 'InternalIP')?.address;
    if (a) ips.add(a);
  }
  return [...ips].sort().map((ip) => ({ ip }));
}

/**
 * Writes status.loadBalancer.ingress when it differs. Every node's proxy
 * computes the same value, so concurrent writers agree.
 */
export async function syncLoadBalancerStatus(client: Client, svc: Service, nodes: Node[]): Promise<void> {
  const ingress = loadBalancerIngress(nodes);
  const have = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length === 0) return;
  if (have.length === ingress.length && have.every((x, i) => x.ip === ingress[i]?.ip)) return;
  await client.patch(
    resources.services,
    svc.metadata.name ?? '',
    'merge',
    { status: { loadBalancer: { ingress } } },
    { namespace: svc.metadata.namespace, subresource: 'status' },
  );
}
