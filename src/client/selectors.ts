import { matchesLabels, parseLabelSelector } from '../api/label-selector.ts';
import { getPath } from '../api/types.ts';
import { InvalidError } from '../lib/errors.ts';
import type { KubeObject } from './types.ts';

/** A compiled label + field selector; `matches` is cheap. */
export interface Selector {
  matches(obj: KubeObject): boolean;
}

/**
 * Compiles Kubernetes selector strings. Field selectors are `path=value`,
 * `path==value` or `path!=value` terms joined by commas, where path is a dotted
 * object path (`spec.nodeName`, `status.phase`, `metadata.name`); a missing
 * field reads as ''. Throws InvalidError on syntax errors, as the server would.
 */
export function compileSelector(opts: { labelSelector?: string; fieldSelector?: string }): Selector {
  const labels = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : [];
  const fields = parseFieldTerms(opts.fieldSelector ?? '');
  return {
    matches(obj) {
      if (labels.length && !matchesLabels(labels, obj.metadata.labels)) return false;
      for (const f of fields) {
        const v = getPath(obj, f.path);
        const text = v === undefined || v === null ? '' : String(v);
        if ((text === f.value) !== f.equal) return false;
      }
      return true;
    },
  };
}

interface FieldTerm {
  path: string[];
  value: string;
  equal: boolean;
}

function parseFieldTerms(s: string): FieldTerm[] {
  const out: FieldTerm[] = [];
  for (const raw of s.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const m = /^([A-Za-z0-9_.-]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw new InvalidError(`parsing field selector: invalid term "${term}"`);
    out.push({ path: (m[1] ?? '').split('.'), value: (m[3] ?? '').trim(), equal: m[2] !== '!=' });
  }
  return out;
}
