/**
 * The cluster DNS address on this node: a dummy interface holding
 * `<clusterDNS>/32` (or /128) in the host's network namespace.
 *
 * Why a dummy interface (NodeLocal DNSCache does the same with its
 * 169.254.20.10): the address becomes local to the host, so a pod's query,
 * routed to its gateway on the bridge, is delivered straight to our socket
 * without NAT, on every node, whether or not any Service rule exists;
 * replies leave from the very address the pod asked. Binding to that one
 * address (not 0.0.0.0:53) leaves port 53 on the host's other addresses to
 * whatever resolver the host runs. A dummy link of our own, rather than an
 * address on `lo`, is removed in one step and never disturbs the host's
 * configuration. The proxy skips the kube-dns Service whose clusterIP this
 * is, so no DNAT rule intercepts it.
 *
 * Kernels built without the dummy driver (this project's CI machines among
 * them) get an empty bridge instead: bridges are always there where CNI's
 * bridge plugin works, and one without ports holds a local address just the
 * same (the kernel delivers to any local address whatever link carries it).
 */
import { spawn } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { UnavailableError } from '../../lib/errors.ts';

/** Runs `ip args`; resolves with its exit code and stderr. */
function ip(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new UnavailableError(`running ip: ${e.message}`, { cause: e })));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr: Buffer.concat(err).toString().trim() }));
  });
}

async function mustIp(what: string, args: string[]): Promise<void> {
  const r = await ip(args);
  if (r.code !== 0) throw new UnavailableError(`${what}: ip ${args.join(' ')}: ${r.stderr}`);
}

/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
export function dnsLinkName(prefix: string | undefined): string {
  const name = `${prefix ?? 'drover-'}dns0`;
  if (name.length > 15)
    throw new UnavailableError(`naming the dns interface: ${name} is longer than 15 bytes`);
  return name;
}

/**
 * Creates (or re-creates, after a crash) the link `name` (dummy, or an empty
 * bridge without the dummy driver) holding `address`, up. Idempotent.
 */
export async function addDnsLink(name: string, address: string): Promise<void> {
  await removeDnsLink(name);
  const dummy = await ip(['link', 'add', name, 'type', 'dummy']);
  if (dummy.code !== 0 && /unknown device type|not supported/i.test(dummy.stderr))
    await mustIp(`creating dns interface ${name}`, ['link', 'add', name, 'type', 'bridge']);
  else if (dummy.code !== 0)
    throw new UnavailableError(`creating dns interface ${name}: ip link add: ${dummy.stderr}`);
  try {
    const v6 = isIPv6(address);
    // nodad: an IPv6 address is usable at once instead of after duplicate detection.
    const addr = v6
      ? ['addr', 'add', `${address}/128`, 'dev', name, 'nodad']
      : ['addr', 'add', `${address}/32`, 'dev', name];
    await mustIp(`adding ${address} to ${name}`, addr);
    await mustIp(`bringing up ${name}`, ['link', 'set', name, 'up']);
  } catch (err) {
    await removeDnsLink(name);
    throw err;
  }
}

/** Deletes the link (and so its address); a link already gone is fine. */
export async function removeDnsLink(name: string): Promise<void> {
  const r = await ip(['link', 'del', name]);
  if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr))
    throw new UnavailableError(`removing dns interface ${name}: ${r.stderr}`);
}
