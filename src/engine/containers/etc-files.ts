import { readFile } from 'node:fs/promises';

/**
 * The per-container /etc/resolv.conf, kept in the container's directory and
 * bind-mounted in, as Docker does (the network manager owns /etc/hosts).
 */

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
