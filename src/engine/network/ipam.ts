/**
 * IP address management for bridge networks: one address per endpoint, from
 * the network's subnet (or its IPRange), never the gateway, never one in use.
 * Allocation continues after the last address handed out (as CNI's
 * host-local does), so a just-released address is not reused at once and a
 * late packet for an old container does not reach a new one.
 */
import { ConflictError, InvalidError, UnavailableError } from '../../lib/errors.ts';
import type { NetworkRecord } from './state.ts';
import { contains, formatIp, hostRange, parseIp, parseSubnet } from './subnet.ts';

export function allocateIp(net: NetworkRecord, used: Set<string>, requested?: string): string {
  if (!net.subnet || !net.gateway)
    throw new InvalidError(`network ${net.name} has no subnet to allocate from`);
  const subnet = parseSubnet(net.subnet);
  const gateway = net.gateway;
  if (requested) {
    const ip = parseIp(requested);
    if (!contains(subnet, ip)) {
      throw new InvalidError(`invalid address ${requested}: it does not belong to subnet ${net.subnet}`);
    }
    if (requested === gateway || used.has(requested)) {
      throw new ConflictError(`address ${requested} already in use on network ${net.name}`);
    }
    return requested;
  }
  const pool = net.ipRange ? parseSubnet(net.ipRange) : subnet;
  const [first, last] = hostRange(pool);
  const total = last - first + 1;
  const lastIp = net.lastIp ? parseIp(net.lastIp) : last;
  let start = lastIp + 1;
  if (start < first || start > last) start = first;
  for (let i = 0; i < total; i++) {
    const n = first + ((start - first + i) % total);
    const text = formatIp(n);
    if (text !== gateway && !used.has(text)) {
      net.lastIp = text;
      return text;
    }
  }
  throw new UnavailableError(`no available IPv4 addresses on network ${net.name}`);
}

/** Docker's MAC convention: 02:42 followed by the four address bytes. */
export function macFor(ip: string): string {
  const n = parseIp(ip);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function isValidMac(mac: string): boolean {
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac);
}
