/**
 * Docker's image list filters: dangling, label (key or key=value) and
 * reference (glob on the familiar name, with or without the tag).
 */

import type { ImageRecord } from './metadata.ts';
import type { ImageConfig } from './oci.ts';
import { familiarReference } from './reference.ts';

export function matchesFilters(r: ImageRecord, config: ImageConfig, f: Record<string, string[]>): boolean {
  for (const v of f.dangling ?? []) {
    const want = v === 'true' || v === '1';
    if (want !== (r.tags.length === 0)) return false;
  }
  const labels = config.config?.Labels ?? {};
  for (const l of f.label ?? []) {
    const [k, val] = l.split('=', 2) as [string, string | undefined];
    if (!(k in labels) || (val !== undefined && labels[k] !== val)) return false;
  }
  const refs = f.reference ?? [];
  if (refs.length > 0) {
    const names = r.tags.map(familiarReference);
    const hit = refs.some((pat) =>
      names.some((n) => globMatch(pat, n) || globMatch(pat, n.split(':')[0] ?? '')),
    );
    if (!hit) return false;
  }
  return true;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(s);
}
