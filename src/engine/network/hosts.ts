/**
 * Name resolution between containers through /etc/hosts: each container's
 * hosts file lists itself and, for every user-defined network it is on, each
 * peer's address with the peer's name and aliases. The manager rewrites the
 * files of every container on a network when an endpoint joins or leaves it.
 *
 * Why hosts files rather than a DNS server on the gateway (Docker's way):
 * resolution keeps working while the daemon is stopped or restarting
 * (containers outlive it), nothing listens per network, and the cost falls on
 * connect/disconnect (one small write per peer) instead of on every lookup.
 * The limit: tools that speak DNS directly (nslookup, dig) do not read it;
 * getaddrinfo (glibc, musl, Node, Go's resolver, busybox ping/wget) does.
 * Files are rewritten in place (truncate + write): a container's bind mount
 * pins the inode, so a rename would never be seen inside.
 */
import { writeFileSync } from 'node:fs';

export interface HostsPeer {
  ip: string;
  names: string[];
}

const localhostLines = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * The file's content. `self` holds the container's own addresses (the first
 * carries its hostname); `extraHosts` are Docker's `host:ip` strings.
 */
export function renderHosts(opts: {
  hostname: string;
  selfIps: string[];
  extraHosts: string[];
  peers: HostsPeer[];
}): string {
  const lines = [...localhostLines];
  for (const entry of opts.extraHosts) {
    const i = entry.indexOf(':');
    if (i > 0) lines.push(`${entry.slice(i + 1)}\t${entry.slice(0, i)}`);
  }
  const first = opts.selfIps[0];
  if (first && opts.hostname) lines.push(`${first}\t${opts.hostname}`);
  const seen = new Set<string>();
  for (const p of opts.peers) {
    const names = p.names.filter((n) => n !== '');
    const key = `${p.ip} ${names.join(' ')}`;
    if (names.length === 0 || seen.has(key)) continue;
    seen.add(key);
    lines.push(`${p.ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Rewrites the file in place, keeping its inode (see above). Synchronous: a
 * connect rewrites one small file per peer, and blocking writes of a few
 * hundred bytes beat one thread-pool round trip each.
 */
export function writeHostsInPlace(path: string, content: string): void {
  writeFileSync(path, content, { flag: 'w' });
}
