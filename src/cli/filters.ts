import { InvalidError } from '../lib/errors.ts';

/** `--filter key=value` flags → the JSON map of maps the docker CLI sends: {"key":{"value":true}}. */
export function encodeFilters(flags: string[] | undefined): string | undefined {
  if (!flags?.length) return undefined;
  const filters: Record<string, Record<string, boolean>> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new InvalidError(`bad format of filter ${JSON.stringify(f)}: expected name=value`);
    const key = f.slice(0, eq).trim().toLowerCase();
    filters[key] = { ...filters[key], [f.slice(eq + 1)]: true };
  }
  return JSON.stringify(filters);
}
