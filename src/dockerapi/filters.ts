/**
 * Docker's `filters` query parameter in both encodings clients use:
 * the Go CLI's map of maps of booleans (`{"status":{"exited":true}}`) and
 * docker-py's map of arrays (`{"status": ["exited"]}`). Both become the
 * engine's `Filters` (`Record<string, string[]>`).
 */

import type { Filters } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';

export function parseFilters(raw: string | null): Filters {
  if (raw === null || raw === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new InvalidError(`invalid filter: ${raw}`, { cause: err });
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidError(`invalid filter: ${raw}`);
  const out: Filters = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = filterValues(key, v);
  }
  return out;
}

function filterValues(key: string, v: unknown): string[] {
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'string'))
      throw new InvalidError(`invalid filter '${key}': values must be strings`);
    return v as string[];
  }
  if (typeof v === 'string') return [v];
  if (v !== null && typeof v === 'object') {
    const values: string[] = [];
    for (const [name, on] of Object.entries(v as Record<string, unknown>)) {
      if (typeof on !== 'boolean')
        throw new InvalidError(`invalid filter '${key}': expected a boolean for '${name}'`);
      if (on) values.push(name);
    }
    return values;
  }
  throw new InvalidError(`invalid filter '${key}'`);
}

/** Booleans in query strings: the CLI sends 1/0, docker-py True/False. */
export function parseBool(raw: string | null, fallback = false): boolean {
  if (raw === null || raw === '') return fallback;
  switch (raw.toLowerCase()) {
    case '1':
    case 'true':
    case 't':
    case 'yes':
      return true;
    case '0':
    case 'false':
    case 'f':
    case 'no':
      return false;
    default:
      throw new InvalidError(`invalid boolean value: ${raw}`);
  }
}

export function parseIntParam(name: string, raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new InvalidError(`invalid value for ${name}: ${raw}`);
  return Math.trunc(n);
}

/** Unix seconds, fractional allowed (`1795432441.123456789`); RFC 3339 accepted too. */
export function parseTime(name: string, raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (Number.isFinite(n)) return n;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new InvalidError(`invalid value for ${name}: ${raw}`);
  return ms / 1000;
}
