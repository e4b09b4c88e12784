/**
 * Linux capability sets for containers: Docker's default set, name
 * normalisation (`net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` are the same), and
 * the add/drop arithmetic Docker applies (`ALL` on either side).
 */
import { InvalidError } from '../../lib/errors.ts';

/** Every capability Linux 6.x knows, in bit order (bit n = allCapabilities[n]). */
export const allCapabilities: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const defaultCapabilities: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const known = new Set(allCapabilities);

/** `net_admin` / `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; `all` → `ALL`. Throws InvalidError on unknown names. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!known.has(full)) throw new InvalidError(`unknown capability: "${name}"`);
  return full;
}

export interface CapabilityOptions {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** The daemon's own bounding set; containers never get more (crun would fail). */
  bounding?: readonly string[];
}

/**
 * The effective capability list Docker would give: defaults (or all when
 * privileged), then drops, then adds; `ALL` in capDrop empties the base, `ALL` in
 * capAdd grants everything. Adding wins over dropping the same capability, as in Docker.
 */
export function computeCapabilities(opts: CapabilityOptions): string[] {
  const add = (opts.capAdd ?? []).map(normalizeCapability);
  const drop = (opts.capDrop ?? []).map(normalizeCapability);
  let caps: Set<string>;
  if (opts.privileged || add.includes('ALL')) caps = new Set(allCapabilities);
  else {
    caps = drop.includes('ALL') ? new Set() : new Set(defaultCapabilities);
    for (const c of drop) caps.delete(c);
    for (const c of add) caps.add(c);
  }
  if (!opts.privileged && add.includes('ALL')) {
    for (const c of drop) if (c !== 'ALL' && !add.includes(c)) caps.delete(c);
  }
  const bounding = opts.bounding ? new Set(opts.bounding) : undefined;
  return allCapabilities.filter((c) => caps.has(c) && (!bounding || bounding.has(c)));
}

/** Decodes a `CapBnd:` hex mask from /proc/<pid>/status into names. */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return allCapabilities.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}
