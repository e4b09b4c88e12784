import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/atomic-file.ts';

/**
 * The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf, kept in
 * the container's directory and bind-mounted in, as Docker does. The hosts
 * file is rewritten in place (same inode) when peers on a user-defined network
 * come and go, so names resolve without a DNS server in the data path.
 */
export interface HostsEntry {
  ip: string;
  names: string[];
}

export function renderHosts(opts: {
  self?: HostsEntry;
  extraHosts?: string[];
  peers?: HostsEntry[];
}): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const extra of opts.extraHosts ?? []) {
    // Docker's --add-host is host:ip (the ip may itself contain colons for IPv6).
    const i = extra.indexOf(':');
    if (i > 0) lines.push(`${extra.slice(i + 1)}\t${extra.slice(0, i)}`);
  }
  if (opts.self) lines.push(`${opts.self.ip}\t${opts.self.names.join(' ')}`);
  for (const peer of opts.peers ?? []) lines.push(`${peer.ip}\t${peer.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * resolv.conf for a container: the request's DNS settings, else the host's
 * nameservers, dropping loopback ones that a container's own network
 * namespace cannot reach (falling back to public resolvers as Docker does).
 */
export async function renderResolvConf(opts: {
  dns?: string[];
  search?: string[];
  options?: string[];
  hostNetwork: boolean;
  hostResolvConf?: string;
}): Promise<string> {
  const host = await readFile(opts.hostResolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '');
  let nameservers = opts.dns?.length ? opts.dns : [];
  let search = opts.search?.length ? opts.search : [];
  let options = opts.options?.length ? opts.options : [];
  if (nameservers.length === 0) {
    for (const line of host.split('\n')) {
      const [key, ...rest] = line.trim().split(/\s+/);
      if (key === 'nameserver' && rest[0]) nameservers.push(rest[0]);
      if (key === 'search' && search.length === 0 && !opts.search?.length) search = rest;
      if (key === 'options' && options.length === 0 && !opts.options?.length) options = rest;
    }
    if (!opts.hostNetwork) nameservers = nameservers.filter((ns) => !/^127\.|^::1$/.test(ns));
    if (nameservers.length === 0) nameservers = ['8.8.8.8', '8.8.4.4'];
  }
  const out = nameservers.map((ns) => `nameserver ${ns}`);
  if (search.length) out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return `${out.join('\n')}\n`;
}

/** Rewrites a bind-mounted file in place so the container sees the change (a rename would not). */
export async function rewriteInPlace(path: string, content: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const file = await open(path, 'r+').catch(() => undefined);
  if (!file) {
    await writeFileAtomic(path, content);
    return;
  }
  try {
    await file.truncate(0);
    await file.write(content, 0, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
}
