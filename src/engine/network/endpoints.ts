/**
 * The manager's read-side and recovery helpers over its records: endpoint
 * settings in Docker's shape, a container's hosts file from its peers, and
 * the sweep of kernel objects no record claims.
 */
import { readdir } from 'node:fs/promises';
import type { Logger } from '../../lib/logger.ts';
import type { EndpointSettings } from '../types.ts';
import { deleteBridge } from './bridge.ts';
import { renderHosts } from './hosts.ts';
import { deleteNetns, netnsDir } from './netns.ts';
import type { EndpointRecord, NetworkRecord, RuntimeState } from './state.ts';

/** Docker's EndpointSettings (NetworkSettings.Networks[name]). */
export function endpointSettings(e: EndpointRecord, n: NetworkRecord): EndpointSettings {
  return {
    IPAMConfig: e.staticIp ? { IPv4Address: e.ip } : null,
    Links: null,
    // Docker adds the short id to the aliases on user-defined networks.
    Aliases:
      e.aliases.length > 0 || !n.builtin ? [...new Set([...e.aliases, e.containerId.slice(0, 12)])] : null,
    NetworkID: n.id,
    EndpointID: e.endpointId,
    Gateway: e.gateway,
    IPAddress: e.ip,
    IPPrefixLen: e.prefixLen,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: e.mac,
    DriverOpts: null,
  };
}

/**
 * The container's hosts file: itself, its extra hosts, and every peer on its
 * user-defined networks by name, aliases and short id (the default bridge
 * resolves no names, as in Docker).
 */
export function hostsFileFor(containerId: string, rt: RuntimeState, networks: NetworkRecord[]): string {
  const sb = rt.sandboxes.find((s) => s.containerId === containerId);
  const mine = rt.endpoints.filter((e) => e.containerId === containerId);
  const peers = [];
  for (const e of mine) {
    if (networks.find((n) => n.id === e.networkId)?.builtin) continue;
    for (const p of rt.endpoints) {
      if (p.networkId !== e.networkId || p.containerId === containerId) continue;
      peers.push({ ip: p.ip, names: [...new Set([p.name, ...p.aliases, p.containerId.slice(0, 12)])] });
    }
  }
  return renderHosts({
    hostname: sb?.hostname ?? '',
    selfIps: mine.map((e) => e.ip),
    extraHosts: sb?.extraHosts ?? [],
    peers,
  });
}

/**
 * Deletes namespaces and bridges carrying our prefixes that no record claims:
 * what a crash between a kernel change and its record (or a background
 * deletion cut short) leaves behind. Prefixes must be unique per manager.
 */
export async function sweepOrphans(o: {
  log: Logger;
  netnsPrefix: string;
  bridgePrefix: string;
  claimedNetns: Set<string>;
  claimedBridges: Set<string>;
}): Promise<void> {
  for (const name of await readdir(netnsDir).catch(() => [] as string[])) {
    if (name.startsWith(o.netnsPrefix) && !o.claimedNetns.has(name)) {
      o.log.info({ netns: name }, 'removing orphaned network namespace');
      await deleteNetns(name);
    }
  }
  for (const link of await readdir('/sys/class/net').catch(() => [] as string[])) {
    if (link.startsWith(o.bridgePrefix) && !o.claimedBridges.has(link)) {
      o.log.info({ bridge: link }, 'removing orphaned bridge');
      await deleteBridge(link);
    }
  }
}
