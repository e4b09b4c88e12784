import { InvalidError } from '../lib/errors.ts';

const binary: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const decimal: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const cache = new Map<string, number>();

/**
 * The value of a resource.Quantity string ("100m", "1.5Gi", "2e3") as a number.
 * Throws InvalidError on a malformed quantity. Parsed values are memoised:
 * the same few strings come up for every pod.
 */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const hit = cache.get(q);
  if (hit !== undefined) return hit;
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE])?)$/.exec(q.trim());
  if (!m) throw new InvalidError(`parsing quantity "${q}": not a Kubernetes quantity`);
  const base = Number(m[1]);
  let v: number;
  if (m[2]) v = base * 10 ** Number(m[2].slice(1));
  else {
    const suffix = m[3] ?? '';
    v = base * (binary[suffix] ?? decimal[suffix] ?? 1);
  }
  if (Number.isNaN(v)) throw new InvalidError(`parsing quantity "${q}": not a number`);
  if (cache.size < 10_000) cache.set(q, v);
  return v;
}

/** A quantity in milli-units (CPU is accounted in millicores), rounded up as upstream does. */
export function parseMilli(q: string | number): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}
