import type { ResourceType } from '../api/resource.ts';
import type { KubeObject } from '../api/types.ts';
import { badRequest } from './status.ts';

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

/** Parses `a=b,c!=d` (also `==`) and checks every field is supported by the kind (400 otherwise). */
export function parseFieldSelector(s: string, type: ResourceType): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const term of s.split(',')) {
    if (term.trim() === '') continue;
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = m[1] ?? '';
    if (!fieldValue(type, field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, value: m[3] ?? '', negate: m[2] === '!=' });
  }
  return out;
}

function fieldValue(type: ResourceType, field: string): ((o: KubeObject) => string | undefined) | undefined {
  if (field === 'metadata.name') return (o) => o.metadata.name;
  if (field === 'metadata.namespace') return (o) => (type.namespaced ? o.metadata.namespace : '');
  return type.strategy.fieldSelectors?.[field];
}

export function matchesFields(reqs: FieldRequirement[], type: ResourceType, obj: KubeObject): boolean {
  for (const r of reqs) {
    const v = fieldValue(type, r.field)?.(obj) ?? '';
    if ((v === r.value) === r.negate) return false;
  }
  return true;
}
