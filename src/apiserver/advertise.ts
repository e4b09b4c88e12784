import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * The address the API server tells the cluster to reach it at (the
 * `kubernetes` Service's endpoint, upstream's --advertise-address).
 */

/** The interface of the IPv4 default route, from /proc/net/route (undefined without one). */
export function defaultRouteInterface(routeTable?: string): string | undefined {
  let text = routeTable;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/route', 'utf8');
    } catch {
      return undefined;
    }
  }
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    const flags = Number.parseInt(f[3] ?? '0', 16);
    if ((flags & 1) === 0) continue; // RTF_UP
    const metric = Number(f[6] ?? 0);
    if (!best || metric < best.metric) best = { iface: f[0] ?? '', metric };
  }
  return best?.iface;
}

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/**
 * The host's address pods and other machines can reach: the IPv4 address of
 * the default-route interface, else the first non-loopback IPv4 address,
 * else 127.0.0.1 (a machine with no network: only local clients).
 */
export function defaultAdvertiseAddress(
  interfaces: Interfaces = os.networkInterfaces(),
  routeIface: string | null = defaultRouteInterface() ?? null,
): string {
  const v4 = (name: string) =>
    (interfaces[name] ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  const viaRoute = routeIface ? v4(routeIface) : undefined;
  if (viaRoute) return viaRoute;
  for (const name of Object.keys(interfaces)) {
    const a = v4(name);
    if (a) return a;
  }
  return '127.0.0.1';
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * The addresses the API listens on: the one asked for, plus the advertise
 * address when the former is a specific address that is not it.
 *
 * Why not simply all interfaces, as kube-apiserver's --bind-address 0.0.0.0
 * default does: Drover's default keeps the admin path on loopback (a laptop's
 * API is not offered on every interface it ever joins, Docker bridges
 * included). But the `kubernetes` Service must work whatever --https-listen
 * says, and pods cannot reach the host's loopback (theirs is their own), so
 * the API is also served on exactly the address it advertises, the one other
 * machines' agents use too. `--https-listen 0.0.0.0:6443` gives upstream's
 * behaviour; `--advertise-address 127.0.0.1` keeps it on loopback only
 * (in-cluster clients then cannot reach it).
 */
export function listenAddresses(listenHost: string, advertise: string): string[] {
  if (isWildcard(listenHost) || listenHost === advertise) return [listenHost];
  return [listenHost, advertise];
}
