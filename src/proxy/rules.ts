/**
 * The nftables rules of one Service (pure): per port a `service-<id>` chain
 * reached from the cluster IP and an `external-<id>` chain reached from node
 * ports, LoadBalancer ports and external IPs, plus the map elements that
 * route to them (or to `reject-chain` when nothing serves). The fixed part of
 * the table (hooks, dispatch maps, masquerading) is in base.ts.
 *
 * Backend choice is `numgen random mod N` over an anonymous DNAT map: one
 * rule per chain, no chain per endpoint, which keeps a 10,000-endpoint table
 * a few thousand objects and a full load well under a second. ClientIP
 * affinity needs memory per endpoint, so only those Services get upstream's
 * layout: an `endpoint-` chain and a dynamic `affinity-` set (with the
 * timeout) per endpoint; a client found in a set goes to that endpoint.
 */
import type { Backend, ServicePortModel } from './types.ts';

export const maps = {
  serviceIps: 'service-ips',
  nodePorts: 'service-nodeports',
  masqueradeNodePorts: 'masquerade-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  clusterIps: 'cluster-ips',
  hairpin: 'hairpin',
} as const;

export const rejectChain = 'reject-chain';
export const markChain = 'mark-for-masquerade';

/**
 * Who is masqueraded. Connections from other hosts, so the reply comes back through this node
 * (for node ports always, for cluster IPs when from outside the pod network); and, by one rule
 * in base.ts, every DNATed connection from 127.0.0.1 (no pod can answer that). Not the node's
 * own other addresses, unlike upstream: the reply to an address of this node comes back to it
 * anyway, and masquerading them would put the node's connections and the pods' own in one port
 * space at the backend, where TIME_WAIT sockets of one refuse the SYNs of the other (seen as a
 * quarter of new connections waiting a second for a retried SYN in bench/proxy-throughput.ts).
 */
const externalMasq = `fib saddr type != local jump ${markChain}`;

/** What the proxy writes for one Service; equal inputs give equal RuleSets. */
export interface RuleSet {
  /** Chain name → rule bodies in order. */
  chains: Map<string, string[]>;
  /** Map or set name → element key → value ('' for a set element). */
  elements: Map<string, Map<string, string>>;
  /** Dynamic (affinity) set name → its declaration. */
  sets: Map<string, string>;
  /** Backend addresses, for the hairpin set (a pod reaching itself through the Service). */
  backendIPs: string[];
}

export interface RuleContext {
  /** The pod network: connections from elsewhere to a cluster IP are masqueraded. */
  clusterCIDR: string;
  /** Masquerade every service connection (when bridged replies would miss conntrack). */
  masqueradeAll: boolean;
  /** `proto . port` keys of LoadBalancer ports this Service holds on the node addresses. */
  loadBalancerPorts: ReadonlySet<string>;
}

export function emptyRuleSet(): RuleSet {
  return { chains: new Map(), elements: new Map(), sets: new Map(), backendIPs: [] };
}

function element(rs: RuleSet, map: string, key: string, value = ''): void {
  let m = rs.elements.get(map);
  if (!m) {
    m = new Map();
    rs.elements.set(map, m);
  }
  m.set(key, value);
}

const endpointChain = (m: ServicePortModel, b: Backend) => `endpoint-${m.id}__${b.ip}/${b.port}`;
const affinitySet = (m: ServicePortModel, b: Backend) => `affinity-${m.id}__${b.ip}/${b.port}`;

/**
 * Rules that DNAT to one of `backends`; each is self-contained, so callers
 * may prefix a condition. Empty backends give a drop (policy Local with no
 * local endpoint, as upstream).
 */
function dnatRules(m: ServicePortModel, backends: Backend[], rs: RuleSet): string[] {
  if (backends.length === 0) return ['drop'];
  if (m.affinitySeconds !== undefined) {
    const rules: string[] = [];
    for (const b of backends) {
      const chain = endpointChain(m, b);
      const set = affinitySet(m, b);
      // The timeout is part of the declaration: a changed timeout is a new set name's job, so
      // keep it in the name too (an existing set cannot be redeclared with another timeout).
      rs.sets.set(set, `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${m.affinitySeconds}s ; }`);
      rs.chains.set(chain, [
        `update @${set} { ip saddr }`,
        `meta l4proto ${m.protocol} dnat to ${b.ip}:${b.port}`,
      ]);
      rules.push(`ip saddr @${set} goto ${chain}`);
    }
    const vmap = backends.map((b, i) => `${i} : goto ${endpointChain(m, b)}`).join(', ');
    rules.push(
      backends.length === 1
        ? `goto ${endpointChain(m, backends[0] as Backend)}`
        : `numgen random mod ${backends.length} vmap { ${vmap} }`,
    );
    return rules;
  }
  if (backends.length === 1) {
    const b = backends[0] as Backend;
    return [`meta l4proto ${m.protocol} dnat to ${b.ip}:${b.port}`];
  }
  const map = backends.map((b, i) => `${i} : ${b.ip} . ${b.port}`).join(', ');
  return [
    `meta l4proto ${m.protocol} dnat ip addr . port to numgen random mod ${backends.length} map { ${map} }`,
  ];
}

function withAffinityName(m: ServicePortModel): ServicePortModel {
  // Affinity sets are named after the timeout too (see dnatRules).
  return m.affinitySeconds === undefined ? m : { ...m, id: `${m.id}/t${m.affinitySeconds}` };
}

/** The rules of one Service port, added to `rs`. */
export function addPortRules(model: ServicePortModel, ctx: RuleContext, rs: RuleSet): void {
  const m = withAffinityName(model);
  const proto = m.protocol;
  const hasBackends = m.backends.length > 0;
  for (const b of m.backends) rs.backendIPs.push(b.ip);

  if (m.clusterIP) {
    const key = `${m.clusterIP} . ${proto} . ${m.port}`;
    element(rs, maps.clusterIps, m.clusterIP);
    if (hasBackends) {
      const chain = `service-${m.id}`;
      const masq = ctx.masqueradeAll
        ? [`jump ${markChain}`]
        : [`ip saddr != ${ctx.clusterCIDR} fib saddr type != local jump ${markChain}`];
      rs.chains.set(chain, [...masq, ...dnatRules(m, m.internalLocal ? m.localBackends : m.backends, rs)]);
      element(rs, maps.serviceIps, key, `goto ${chain}`);
    } else {
      element(rs, maps.noEndpointServices, key, `goto ${rejectChain}`);
    }
  }

  const nodeKeys: string[] = [];
  if (m.nodePort) nodeKeys.push(`${proto} . ${m.nodePort}`);
  if (m.loadBalancer && ctx.loadBalancerPorts.has(`${proto} . ${m.port}`))
    nodeKeys.push(`${proto} . ${m.port}`);
  const externalKeys = m.externalIPs.map((ip) => `${ip} . ${proto} . ${m.port}`);
  if (nodeKeys.length === 0 && externalKeys.length === 0) return;
  if (!hasBackends) {
    for (const k of nodeKeys) element(rs, maps.noEndpointNodePorts, k, `goto ${rejectChain}`);
    for (const k of externalKeys) element(rs, maps.noEndpointServices, k, `goto ${rejectChain}`);
    return;
  }
  const chain = `external-${m.id}`;
  // The service chain already DNATs over every endpoint unless internalTrafficPolicy is Local:
  // reuse it rather than writing (and syncing) the same backend map twice.
  const shared = !!m.clusterIP && !m.internalLocal;
  const cluster = shared ? [`goto service-${m.id}`] : dnatRules(m, m.backends, rs);
  if (shared && (!m.externalLocal || ctx.masqueradeAll) && externalKeys.length === 0) {
    // The common NodePort: its key in @masquerade-nodeports has the `services` chain mark the
    // packet, and the node port goes straight to the service chain. One chain per port instead
    // of two: 1,000 NodePort Services are 2,000 kernel objects fewer to write.
    for (const k of nodeKeys) {
      element(rs, maps.nodePorts, k, `goto service-${m.id}`);
      element(rs, maps.masqueradeNodePorts, k);
    }
    return;
  }
  if (!m.externalLocal || ctx.masqueradeAll) {
    rs.chains.set(chain, ctx.masqueradeAll ? [`jump ${markChain}`, ...cluster] : [externalMasq, ...cluster]);
  } else {
    // Policy Local keeps the client's address, so only this node's endpoints may answer. Pods
    // and the node itself are not "external": they use every endpoint (as upstream does; the
    // node masqueraded only from 127.0.0.1, by base.ts).
    rs.chains.set(chain, [
      ...cluster.map((r) => `ip saddr ${ctx.clusterCIDR} ${r}`),
      ...cluster.map((r) => `fib saddr type local ${r}`),
      ...dnatRules(m, m.localBackends, rs),
    ]);
  }
  for (const k of nodeKeys) element(rs, maps.nodePorts, k, `goto ${chain}`);
  for (const k of externalKeys) element(rs, maps.serviceIps, k, `goto ${chain}`);
}

/** The RuleSet of a whole Service: every port's rules. */
export function serviceRules(models: ServicePortModel[], ctx: RuleContext): RuleSet {
  const rs = emptyRuleSet();
  for (const m of models) addPortRules(m, ctx, rs);
  rs.backendIPs = [...new Set(rs.backendIPs)].sort();
  return rs;
}
