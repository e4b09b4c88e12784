/**
 * Host clean-up for tests that run the CNI bridge/portmap plugins: their
 * iptables rules carry the network name in a comment; remove them by name.
 */
import { spawnSync } from 'node:child_process';

/** Last resort: iptables NAT rules and chains whose comment names our CNI network. */
export function removeChainsOf(network: string): void {
  const rules = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout.split('\n');
  const chains = new Set<string>();
  for (const r of rules) {
    if (!r.startsWith('-A ') || !r.includes(`"${network}"`)) continue;
    const args = r.slice(3).match(/"[^"]*"|\S+/g) ?? [];
    const [chain = '', ...rest] = args.map((a) => a.replace(/^"|"$/g, ''));
    if (chain.startsWith('CNI-')) chains.add(chain);
    else spawnSync('iptables', ['-t', 'nat', '-D', chain, ...rest]);
  }
  for (const c of chains) {
    spawnSync('iptables', ['-t', 'nat', '-F', c]);
    spawnSync('iptables', ['-t', 'nat', '-X', c]);
  }
}

/**
 * portmap leaves its shared top-level chains behind by design; remove them
 * once no mapping of anyone uses them, so the tests leave the host as found.
 */
export function removePortmapScaffolding(): void {
  const ipt = (...args: string[]) => spawnSync('iptables', ['-t', 'nat', ...args]);
  const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout;
  if (/-A CNI-HOSTPORT-DNAT /.test(nat)) return;
  const local = ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT'];
  ipt('-D', 'PREROUTING', ...local);
  ipt('-D', 'OUTPUT', ...local);
  ipt(
    '-D',
    'POSTROUTING',
    '-m',
    'comment',
    '--comment',
    'CNI portfwd requiring masquerade',
    '-j',
    'CNI-HOSTPORT-MASQ',
  );
  for (const chain of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK']) {
    ipt('-F', chain);
    ipt('-X', chain);
  }
}
