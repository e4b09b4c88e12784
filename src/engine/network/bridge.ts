/**
 * Linux bridges and veth pairs, driven by `ip -batch`: a bridge per network
 * (our own names: drover0 for the default, drv-<10 hex> for the others), and
 * per endpoint a veth whose container end is created directly inside the
 * container's namespace, so attaching costs one host batch and one
 * in-namespace batch.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { UnavailableError } from '../../lib/errors.ts';
import { parseSubnet, type Subnet } from './subnet.ts';
import { ipBatch, runTool, runToolRaw } from './tool.ts';

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

async function setSysctl(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (err) {
    throw new UnavailableError(`setting ${path} to ${value}: ${(err as Error).message}`, { cause: err });
  }
}

/** Turns on IPv4 forwarding (needed for NAT and published ports). */
export function enableForwarding(): Promise<void> {
  return setSysctl('/proc/sys/net/ipv4/ip_forward', '1');
}

/**
 * Creates the bridge if missing, (re)assigns the gateway address and brings it
 * up; idempotent, so init() calls it for every network after a reboot.
 * route_localnet lets DNATed 127.0.0.1 traffic leave through the bridge.
 */
export async function ensureBridge(name: string, gatewayCidr: string): Promise<void> {
  const lines: string[] = [];
  if (!linkExists(name)) lines.push(`link add ${name} type bridge`);
  lines.push(`addr replace ${gatewayCidr} dev ${name}`, `link set ${name} up`);
  await ipBatch(`setting up bridge ${name}`, lines);
  await setSysctl(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
}

/** Deletes the bridge; absent is fine. */
export async function deleteBridge(name: string): Promise<void> {
  if (!linkExists(name)) return;
  const r = await runToolRaw('ip', ['link', 'del', name]);
  if (r.code !== 0 && linkExists(name)) {
    throw new UnavailableError(`deleting bridge ${name}: ${r.stderr.trim()}`);
  }
}

export interface VethPlan {
  hostIf: string;
  /** The container's interface name (eth0, eth1 ...). */
  ifname: string;
  mac: string;
  bridge: string;
  /** Name under /run/netns. */
  netns: string;
  ipCidr: string;
  /** Install a default route through this gateway. */
  defaultGateway?: string;
}

/**
 * Host-side commands: optionally the namespace itself (`netns add` in a batch
 * returns to the host namespace afterwards), then the pair, its host end
 * enslaved and up, its peer born inside the namespace with its MAC.
 */
export function hostVethLines(p: VethPlan, createNetns: boolean): string[] {
  const lines = createNetns ? [`netns add ${p.netns}`] : [];
  lines.push(
    `link add ${p.hostIf} master ${p.bridge} up type veth peer name ${p.ifname} address ${p.mac} netns ${p.netns}`,
  );
  return lines;
}

/** In-namespace commands (the loopback too: createSandbox leaves it to us). */
export function nsVethLines(p: VethPlan): string[] {
  const lines = ['link set lo up', `addr add ${p.ipCidr} dev ${p.ifname}`, `link set ${p.ifname} up`];
  if (p.defaultGateway) lines.push(`route replace default via ${p.defaultGateway} dev ${p.ifname}`);
  return lines;
}

/** Two processes: one `ip -batch` on the host, one inside the namespace. */
export async function attachVeth(p: VethPlan, opts: { createNetns: boolean }): Promise<void> {
  await ipBatch(`attaching ${p.ifname} to ${p.bridge}`, hostVethLines(p, opts.createNetns));
  try {
    await ipBatch(`configuring ${p.ifname} in ${p.netns}`, nsVethLines(p), p.netns);
  } catch (err) {
    await deleteLink(p.hostIf);
    throw err;
  }
}

/** Deletes a veth by its host end (the peer goes with it); absent is fine. */
export async function deleteLink(name: string): Promise<void> {
  if (!linkExists(name)) return;
  const r = await runToolRaw('ip', ['link', 'del', name]);
  if (r.code !== 0 && linkExists(name))
    throw new UnavailableError(`deleting link ${name}: ${r.stderr.trim()}`);
}

/** The host's IPv4 routes (all tables, defaults excluded), as subnets a new network must avoid. */
export async function hostRouteSubnets(): Promise<Subnet[]> {
  const out = await runTool('reading routes', 'ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(out || '[]') as { dst?: string; type?: string }[];
  const subnets: Subnet[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || r.type === 'broadcast') continue;
    subnets.push(parseSubnet(r.dst, true));
  }
  return subnets;
}
