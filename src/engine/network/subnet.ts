/**
 * IPv4 subnets as numbers: parsing, formatting, overlap, host addresses, and
 * choosing a free subnet for a new bridge network so that it collides neither
 * with the host's routes nor with our other networks.
 */
import { InvalidError } from '../../lib/errors.ts';

export interface Subnet {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIp(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new InvalidError(`invalid IPv4 address: ${text}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new InvalidError(`invalid IPv4 address: ${text}`);
    n = n * 256 + v;
  }
  return n;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n"; a bare address is a /32. Host bits must be zero unless `loose`. */
export function parseSubnet(text: string, loose = false): Subnet {
  const [ip, len] = text.split('/');
  const prefix = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32)
    throw new InvalidError(`invalid subnet: ${text}`);
  const addr = parseIp(ip ?? '');
  const base = (addr & mask(prefix)) >>> 0;
  if (!loose && base !== addr) throw new InvalidError(`invalid subnet ${text}: host bits are set`);
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIp(s.base)}/${s.prefix}`;
}

export function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function contains(s: Subnet, ip: number): boolean {
  return (ip & mask(s.prefix)) >>> 0 === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/** The n-th address of the subnet (1 = the first host, conventionally the gateway). */
export function hostAt(s: Subnet, n: number): number {
  return (s.base + n) >>> 0;
}

/** Usable host range [first, last], excluding network and broadcast addresses. */
export function hostRange(s: Subnet): [number, number] {
  if (s.prefix >= 31) return [s.base, (s.base + size(s) - 1) >>> 0];
  return [(s.base + 1) >>> 0, (s.base + size(s) - 2) >>> 0];
}

/**
 * Candidates for new networks, in order: 172.28/16 .. 172.31/16 (Docker's own
 * pools start at 172.17 and podman's at 10.88, so these are rarely taken),
 * then 10.89.0.0/24 .. 10.89.255.0/24 (many small networks).
 */
export function* candidateSubnets(): Generator<Subnet> {
  for (let b = 28; b <= 31; b++) yield { base: parseIp(`172.${b}.0.0`), prefix: 16 };
  for (let c = 0; c <= 255; c++) yield { base: parseIp(`10.89.${c}.0`), prefix: 24 };
}

/** The first candidate overlapping none of `taken`; InvalidError-free: UnavailableError is the caller's. */
export function chooseSubnet(taken: Subnet[]): Subnet | undefined {
  for (const c of candidateSubnets()) {
    if (!taken.some((t) => overlaps(t, c))) return c;
  }
  return undefined;
}
