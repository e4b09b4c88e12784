/**
 * The engine's nftables table: outbound NAT for bridge networks, isolation
 * between networks, internal networks, and published ports (kernel DNAT, no
 * user-space proxy).
 *
 * The rules are fixed; everything that changes lives in sets and maps, so a
 * network or a published port is one `add element` / `delete element` in one
 * `nft -f -` transaction. init() rebuilds the whole table from state
 * atomically (delete + create in one transaction), which also repairs it.
 *
 * 127.0.0.1:port works because the output chain DNATs locally generated
 * packets too, each bridge has route_localnet=1 (set by bridge.ts) and the
 * 127/8-sourced, DNATed flows are masqueraded to the bridge address.
 */
import { nftScript, runToolRaw } from './tool.ts';

export interface NatNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface PortRule {
  proto: 'tcp' | 'udp' | 'sctp';
  /** '' or '0.0.0.0' = every local address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

function isAnyIp(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0';
}

function tableSkeleton(table: string): string {
  return `table ip ${table} {
  set nat_subnets { type ipv4_addr; flags interval; }
  set bridges { type ifname; }
  set self_pairs { type ifname . ifname; }
  set internal_bridges { type ifname; }
  map ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }
  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump ports; }
  chain output { type nat hook output priority -100; policy accept; fib daddr type local jump ports; }
  chain ports {
    dnat ip addr . port to ip daddr . meta l4proto . th dport map @ports_ip
    dnat ip addr . port to meta l4proto . th dport map @ports_any
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr @nat_subnets oifname != @bridges masquerade
    ct status dnat ip saddr 127.0.0.0/8 masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname . oifname @self_pairs accept
    iifname @internal_bridges drop
    oifname @internal_bridges drop
    iifname @bridges oifname @bridges ct status != dnat drop
  }
}
`;
}

function networkElements(table: string, verb: 'add' | 'delete', n: NatNetwork): string[] {
  const b = JSON.stringify(n.bridge);
  const lines = [
    `${verb} element ip ${table} bridges { ${b} }`,
    `${verb} element ip ${table} self_pairs { ${b} . ${b} }`,
  ];
  if (n.internal) lines.push(`${verb} element ip ${table} internal_bridges { ${b} }`);
  else lines.push(`${verb} element ip ${table} nat_subnets { ${n.subnet} }`);
  return lines;
}

function portElement(table: string, verb: 'add' | 'delete', p: PortRule): string {
  const target = verb === 'add' ? ` : ${p.containerIp} . ${p.containerPort}` : '';
  if (isAnyIp(p.hostIp))
    return `${verb} element ip ${table} ports_any { ${p.proto} . ${p.hostPort}${target} }`;
  return `${verb} element ip ${table} ports_ip { ${p.hostIp} . ${p.proto} . ${p.hostPort}${target} }`;
}

/**
 * Applies changes in call order through one queue, so a port removed in the
 * background is gone before a later publication of the same port is added.
 * (An nftables commit waits for the kernel, 5-40 ms here under load, so
 * callers leave removals to the background.)
 */
export class Firewall {
  readonly table: string;
  private queue: Promise<unknown> = Promise.resolve();
  constructor(table: string) {
    this.table = table;
  }

  private inOrder(what: string, script: string): Promise<void> {
    const run = this.queue.then(async () => {
      await new Promise((resolve) => setImmediate(resolve)); // let the caller's reply go out first
      await nftScript(what, script);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Replaces the table with one describing exactly `networks` and `ports`, atomically. */
  async rebuild(networks: NatNetwork[], ports: PortRule[]): Promise<void> {
    const lines = [`table ip ${this.table}`, `delete table ip ${this.table}`, tableSkeleton(this.table)];
    for (const n of networks) lines.push(...networkElements(this.table, 'add', n));
    for (const p of ports) lines.push(portElement(this.table, 'add', p));
    await this.inOrder('programming nftables', `${lines.join('\n')}\n`);
  }

  async addNetwork(n: NatNetwork): Promise<void> {
    await this.inOrder(`adding nat for ${n.bridge}`, `${networkElements(this.table, 'add', n).join('\n')}\n`);
  }

  async removeNetwork(n: NatNetwork): Promise<void> {
    await this.inOrder(
      `removing nat for ${n.bridge}`,
      `${networkElements(this.table, 'delete', n).join('\n')}\n`,
    );
  }

  async addPorts(ports: PortRule[]): Promise<void> {
    if (ports.length === 0) return;
    await this.inOrder(
      'publishing ports',
      `${ports.map((p) => portElement(this.table, 'add', p)).join('\n')}\n`,
    );
  }

  async removePorts(ports: PortRule[]): Promise<void> {
    if (ports.length === 0) return;
    await this.inOrder(
      'unpublishing ports',
      `${ports.map((p) => portElement(this.table, 'delete', p)).join('\n')}\n`,
    );
  }

  /** Deletes the whole table (tests and uninstall); absent is fine. */
  async destroy(): Promise<void> {
    await runToolRaw('nft', ['delete', 'table', 'ip', this.table]);
  }
}
