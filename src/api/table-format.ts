import type { Column } from './resource.ts';
import { asArray, getPath, isObject, type KubeObject } from './types.ts';

/** Human duration as kubectl prints ages: 45s, 5m, 3h20m, 2d5h, 400d. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

export function age(obj: KubeObject, now: number): string {
  const ts = obj.metadata.creationTimestamp;
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

export function sinceTime(ts: unknown, now: number): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

export const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
};
export const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp of the object.',
};

export function col(name: string, priority = 0, type: Column['type'] = 'string'): Column {
  return { name, type, format: '', description: name, priority };
}

export function str(v: unknown, empty = '<none>'): string {
  if (v === undefined || v === null || v === '') return empty;
  return String(v);
}

export function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** `a=b,c=d` from a map; `<none>` when empty. */
export function formatLabels(m: unknown, empty = '<none>'): string {
  if (!isObject(m) || Object.keys(m).length === 0) return empty;
  return Object.entries(m)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

/** Label selector (matchLabels + matchExpressions) as its string form. */
export function formatSelector(sel: unknown): string {
  if (!isObject(sel)) return '<none>';
  const parts: string[] = [];
  if (isObject(sel.matchLabels))
    for (const [k, v] of Object.entries(sel.matchLabels)) parts.push(`${k}=${String(v)}`);
  for (const e of asArray(sel.matchExpressions)) {
    const values = Array.isArray(e.values) ? e.values.join(',') : '';
    const op = String(e.operator);
    if (op === 'In') parts.push(`${String(e.key)} in (${values})`);
    else if (op === 'NotIn') parts.push(`${String(e.key)} notin (${values})`);
    else if (op === 'Exists') parts.push(String(e.key));
    else if (op === 'DoesNotExist') parts.push(`!${String(e.key)}`);
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

/** CONTAINERS and IMAGES wide columns from a pod template path. */
export function containersAndImages(obj: KubeObject, podSpecPath: string[]): [string, string] {
  const containers = asArray(getPath(obj, [...podSpecPath, 'containers']));
  return [containers.map((c) => String(c.name)).join(','), containers.map((c) => String(c.image)).join(',')];
}

export const workloadWide = [col('Containers', 1), col('Images', 1), col('Selector', 1)];
