/** DNS response codes by name (RFC 1035 §4.1.1, RFC 6891 §9 for BADVERS), and back. */
export const rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export type RcodeName = keyof typeof rcode;

/** The name of a 4-bit header rcode (`RCODE_<n>` for those we never send). */
export function rcodeName(n: number): string {
  for (const [name, v] of Object.entries(rcode)) if (v === n) return name;
  return `RCODE_${n}`;
}
