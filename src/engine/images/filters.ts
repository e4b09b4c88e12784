/**
 * Docker's image filters: dangling, label / label! (key or key=value),
 * reference (glob on the familiar name, with or without the tag) and, for
 * prune, until (a Go duration like `24h` or a timestamp).
 */
import { InvalidError } from '../../lib/errors.ts';
import type { ImageRecord } from './metadata.ts';
import type { ImageConfig } from './oci.ts';
import { familiarReference } from './reference.ts';

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  const k = filter.slice(0, eq);
  return k in labels && labels[k] === filter.slice(eq + 1);
}

export function matchesFilters(
  r: ImageRecord,
  config: ImageConfig,
  f: Record<string, string[]>,
  now: number = Date.now(),
): boolean {
  for (const v of f.dangling ?? []) {
    const want = v === 'true' || v === '1';
    if (want !== (r.tags.length === 0)) return false;
  }
  const labels = config.config?.Labels ?? {};
  if (!(f.label ?? []).every((l) => labelMatches(labels, l))) return false;
  if ((f['label!'] ?? []).some((l) => labelMatches(labels, l))) return false;
  const refs = f.reference ?? [];
  if (refs.length > 0) {
    const names = r.tags.map(familiarReference);
    const hit = refs.some((pat) =>
      names.some((n) => globMatch(pat, n) || globMatch(pat, n.split(':')[0] ?? '')),
    );
    if (!hit) return false;
  }
  const created = Date.parse(config.created ?? '') || 0;
  for (const u of f.until ?? []) {
    if (created >= untilTime(u, now)) return false;
  }
  return true;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** `until` as epoch milliseconds: a Go duration before `now`, unix seconds, or an RFC 3339 time. */
export function untilTime(value: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === value) {
    return now - parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] as string] ?? 0), 0);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new InvalidError(`invalid filter 'until=${value}': not a duration or a timestamp`);
  return t;
}

function globMatch(pattern: string, s: string): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`).test(s);
}
