/**
 * The fixed skeleton of the proxy's table, modelled on kube-proxy's nftables
 * mode:
 *
 *   nat prerouting/output ─► services: ip daddr . proto . port vmap @service-ips
 *                                      fib daddr type local: proto . port in @masquerade-nodeports:
 *                                        mark for masquerade; proto . port vmap @service-nodeports
 *                                      (127.0.0.1 included: node ports answer on loopback)
 *   nat postrouting ─────► masquerading: hairpin pairs, or packets marked 0x4000
 *   filter (priority -110, before NAT) ─► no-endpoint maps → reject-chain (tcp reset /
 *                                        icmp port-unreachable); loopback guard
 *   filter output after DNAT, forward ─► cluster IPs that matched no port: reject
 *
 * Service chains hang off the maps (rules.ts); the skeleton never changes at
 * run time, so an incremental sync only touches maps, sets and service chains.
 */
import { maps, markChain, rejectChain } from './rules.ts';

export const masqueradeMark = '0x00004000';

export interface Skeleton {
  /** `map`/`set` declarations, created before anything refers to them. */
  declarations: Map<string, string>;
  /** Base chains: name → hook declaration ('' for a regular chain). */
  hooks: Map<string, string>;
  /** Base chains' rules. */
  chains: Map<string, string[]>;
}

const hook = (type: string, h: string, priority: number) =>
  `{ type ${type} hook ${h} priority ${priority} ; policy accept ; }`;

export function skeleton(): Skeleton {
  const declarations = new Map<string, string>([
    [maps.serviceIps, 'map { type ipv4_addr . inet_proto . inet_service : verdict ; }'],
    [maps.nodePorts, 'map { type inet_proto . inet_service : verdict ; }'],
    [maps.noEndpointServices, 'map { type ipv4_addr . inet_proto . inet_service : verdict ; }'],
    [maps.noEndpointNodePorts, 'map { type inet_proto . inet_service : verdict ; }'],
    [maps.masqueradeNodePorts, 'set { type inet_proto . inet_service ; }'],
    [maps.clusterIps, 'set { type ipv4_addr ; }'],
    [maps.hairpin, 'set { type ipv4_addr . ipv4_addr ; }'],
  ]);
  const hooks = new Map<string, string>([
    ['filter-prerouting', hook('filter', 'prerouting', -110)],
    ['filter-input', hook('filter', 'input', -110)],
    ['filter-forward', hook('filter', 'forward', -110)],
    ['filter-output', hook('filter', 'output', -110)],
    ['filter-output-post-dnat', hook('filter', 'output', -90)],
    ['nat-prerouting', hook('nat', 'prerouting', -100)],
    ['nat-output', hook('nat', 'output', -100)],
    ['nat-postrouting', hook('nat', 'postrouting', 100)],
  ]);
  const chains = new Map<string, string[]>([
    // route_localnet (set on the pod bridge so 127.0.0.1:<nodePort> can be DNATed to a pod) would
    // also accept packets *to* 127/8 arriving on that interface; nothing legitimate does that.
    ['filter-prerouting', ['iifname != "lo" ip daddr 127.0.0.0/8 drop']],
    [
      'filter-input',
      ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    ],
    ['filter-forward', ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check']],
    ['filter-output', ['ct state new jump service-endpoints-check']],
    ['filter-output-post-dnat', ['ct state new jump cluster-ips-check']],
    ['nat-prerouting', ['jump services']],
    ['nat-output', ['jump services']],
    ['nat-postrouting', ['jump masquerading']],
    [
      'services',
      [
        `ip daddr . meta l4proto . th dport vmap @${maps.serviceIps}`,
        // Node ports from other hosts are masqueraded (rules.ts says who and why).
        `fib daddr type local fib saddr type != local meta l4proto . th dport @${maps.masqueradeNodePorts} jump ${markChain}`,
        `fib daddr type local meta l4proto . th dport vmap @${maps.nodePorts}`,
      ],
    ],
    ['service-endpoints-check', [`ip daddr . meta l4proto . th dport vmap @${maps.noEndpointServices}`]],
    [
      'nodeport-endpoints-check',
      [`fib daddr type local meta l4proto . th dport vmap @${maps.noEndpointNodePorts}`],
    ],
    // A cluster IP on a port the Service does not have: refuse instead of routing it away.
    ['cluster-ips-check', [`ip daddr @${maps.clusterIps} reject`]],
    [markChain, [`meta mark set meta mark | ${masqueradeMark}`]],
    [
      'masquerading',
      [
        // A pod reaching itself through its Service must see another source, or it drops the reply.
        `ct status dnat ip saddr . ip daddr @${maps.hairpin} masquerade`,
        // 127.0.0.1 to a node port or cluster IP: the pod cannot answer 127.0.0.1.
        'ct status dnat ip saddr 127.0.0.0/8 masquerade',
        `meta mark & ${masqueradeMark} == 0 return`,
        `meta mark set meta mark ^ ${masqueradeMark}`,
        // Port-preserving, not fully-random (upstream's choice against a UDP insert race): the
        // backend then sees the client's own port, and its TIME_WAIT sockets are reused the way
        // they are for direct connections (fully-random cost 127.0.0.1 node ports ~10-15%).
        'masquerade',
      ],
    ],
    [rejectChain, ['meta l4proto tcp reject with tcp reset', 'reject']],
  ]);
  for (const name of chains.keys()) if (!hooks.has(name)) hooks.set(name, '');
  return { declarations, hooks, chains };
}
