import { InvalidError } from '../lib/errors.ts';

/** One requirement of a label selector. */
export interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | '=' | '!=';
  values: string[];
}

/**
 * Parses the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
 * Throws InvalidError on syntax errors (the apiserver answers 400).
 */
export function parseLabelSelector(s: string): Requirement[] {
  const out: Requirement[] = [];
  let i = 0;
  const text = s.trim();
  const skipWs = () => {
    while (text[i] === ' ') i++;
  };
  const ident = () => {
    skipWs();
    const m = /^[A-Za-z0-9_./-]+/.exec(text.slice(i));
    if (!m)
      throw new InvalidError(
        `unable to parse requirement: found '${text.slice(i, i + 1) || 'end of string'}', expected: identifier`,
      );
    i += m[0].length;
    return m[0];
  };
  while (i < text.length) {
    skipWs();
    if (text[i] === '!') {
      i++;
      out.push({ key: ident(), op: '!', values: [] });
    } else {
      const key = ident();
      skipWs();
      const rest = text.slice(i);
      const m = /^(in|notin)\s*\(/.exec(rest);
      if (rest.startsWith('!=')) {
        i += 2;
        out.push({ key, op: '!=', values: [valueToken()] });
      } else if (rest.startsWith('==') || rest.startsWith('=')) {
        i += rest.startsWith('==') ? 2 : 1;
        out.push({ key, op: '=', values: [valueToken()] });
      } else if (m) {
        i += m[0].length;
        const close = text.indexOf(')', i);
        if (close < 0) throw new InvalidError(`unable to parse requirement: missing ')' in "${s}"`);
        const values = text
          .slice(i, close)
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '');
        i = close + 1;
        out.push({ key, op: m[1] as 'in' | 'notin', values });
      } else out.push({ key, op: 'exists', values: [] });
    }
    skipWs();
    if (i < text.length) {
      if (text[i] !== ',')
        throw new InvalidError(`unable to parse requirement: unexpected '${text[i]}' in "${s}"`);
      i++;
    }
  }
  return out;

  function valueToken(): string {
    skipWs();
    const m = /^[A-Za-z0-9_.-]*/.exec(text.slice(i));
    const v = m?.[0] ?? '';
    i += v.length;
    return v;
  }
}

export function matchesLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
      case '=':
      case 'in':
        if (!has || !r.values.includes(v ?? '')) return false;
        break;
      case '!=':
      case 'notin':
        if (has && r.values.includes(v ?? '')) return false;
        break;
    }
  }
  return true;
}

/** Builds requirements from a LabelSelector object (matchLabels + matchExpressions). */
export function selectorRequirements(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): Requirement[] {
  const out: Requirement[] = [];
  for (const [key, v] of Object.entries(sel.matchLabels ?? {})) out.push({ key, op: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' } as const)[
      e.operator as 'In'
    ];
    if (op) out.push({ key: e.key, op, values: e.values ?? [] });
  }
  return out;
}
