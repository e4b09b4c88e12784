/**
 * Domain-name and address helpers for cluster DNS: canonical names, the
 * dashed form of an address (`10-42-0-5`), and reverse-lookup names
 * (`5.0.42.10.in-addr.arpa`, nibbles under `ip6.arpa`).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Lower-cases a name and drops a trailing dot: the form every lookup table is keyed by. */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** The labels of a canonical name, most specific first ('' → none). */
export function labelsOf(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/**
 * The labels of `name` left of `zone` (both canonical), or undefined when
 * `name` is not `zone` or under it.
 */
export function labelsUnder(name: string, zone: string): string[] | undefined {
  if (name === zone) return [];
  if (!name.endsWith(`.${zone}`)) return undefined;
  return labelsOf(name.slice(0, -zone.length - 1));
}

/** `10.42.0.5` → `10-42-0-5`; IPv6 `fd00::1` → `fd00--1` (as upstream names IPv6 endpoints). */
export function dashedAddress(ip: string): string {
  return isIPv4(ip) ? ip.replaceAll('.', '-') : ip.replaceAll(':', '-');
}

/** The address a dashed label stands for, or undefined when it is none. */
export function addressFromDashed(label: string): string | undefined {
  const v4 = label.replaceAll('-', '.');
  if (isIPv4(v4)) return v4;
  const v6 = label.replaceAll('-', ':');
  return isIPv6(v6) ? v6 : undefined;
}

/** Expands an IPv6 address to its 32 hex digits. */
function ipv6Nibbles(ip: string): string {
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  let groups = head === '' ? [] : head.split(':');
  const rest = tail === '' ? [] : tail.split(':');
  const last = (rest.length > 0 ? rest : groups).at(-1) ?? '';
  const embedded = isIPv4(last) ? last : undefined;
  if (embedded) {
    const [a = 0, b = 0, c = 0, d = 0] = embedded.split('.').map(Number);
    const v4groups = [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    if (rest.length > 0) rest.splice(-1, 1, ...v4groups);
    else groups = [...groups.slice(0, -1), ...v4groups];
  }
  const fill = ip.includes('::') ? 8 - groups.length - rest.length : 0;
  return [...groups, ...Array<string>(fill).fill('0'), ...rest].map((g) => g.padStart(4, '0')).join('');
}

/** The PTR owner name of an address: `5.0.42.10.in-addr.arpa` or the nibbles under `ip6.arpa`. */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${[...ipv6Nibbles(ip)].reverse().join('.')}.ip6.arpa`;
}

/** The address a canonical reverse name stands for, or undefined when it names a partial or bad one. */
export function addressFromReverse(name: string): string | undefined {
  const v4 = labelsUnder(name, 'in-addr.arpa');
  if (v4) {
    const ip = [...v4].reverse().join('.');
    return v4.length === 4 && isIPv4(ip) && v4.every((l) => String(Number(l)) === l) ? ip : undefined;
  }
  const v6 = labelsUnder(name, 'ip6.arpa');
  if (v6?.length !== 32 || !v6.every((l) => /^[0-9a-f]$/.test(l))) return undefined;
  const hex = [...v6].reverse().join('');
  const groups = hex.match(/.{4}/g) ?? [];
  return compressIPv6(groups.map((g) => g.replace(/^0+(?=.)/, '')));
}

/** Writes eight hex groups in the canonical compressed form (RFC 5952): the longest zero run as `::`. */
function compressIPv6(groups: string[]): string {
  let best = { start: -1, len: 0 };
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.len).join(':');
  return `${head}::${tail}`;
}

/** Whether a name read off the wire is one we can answer about: labels 1-63 octets, 253 in all. */
export function isValidQueryName(name: string): boolean {
  if (name === '.' || name === '') return true;
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length > 253) return false;
  return n.split('.').every((l) => l.length > 0 && l.length <= 63);
}
