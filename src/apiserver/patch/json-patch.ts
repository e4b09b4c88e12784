import { isObject } from '../../api/types.ts';
import { ApiError } from '../status.ts';

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

const fail = (msg: string) => new ApiError(422, 'Invalid', msg);

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw fail(`invalid JSON pointer: "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, parts: string[]): { parent: unknown; key: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObject(cur)) cur = cur[p];
    else cur = undefined;
    if (cur === undefined) throw fail(`jsonpatch: path not found: /${parts.join('/')}`);
  }
  return { parent: cur, key: parts[parts.length - 1] ?? '' };
}

function read(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const p of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined;
    if (cur === undefined) throw fail(`jsonpatch: path not found: ${path}`);
  }
  return cur;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(doc, parts);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length)
      throw fail(`jsonpatch: index out of bounds: ${path}`);
    parent.splice(i, 0, value);
  } else if (isObject(parent)) parent[key] = value;
  else throw fail(`jsonpatch: cannot add at ${path}`);
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, key } = parentOf(doc, pointer(path));
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!(i >= 0 && i < parent.length)) throw fail(`jsonpatch: index out of bounds: ${path}`);
    parent.splice(i, 1);
  } else if (isObject(parent) && key in parent) delete parent[key];
  else throw fail(`jsonpatch: path not found: ${path}`);
  return doc;
}

/** RFC 6902 JSON Patch applied to a copy of `doc`. Failures are 422 like upstream. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json patch must be an array of operations');
  let out: unknown = structuredClone(doc);
  for (const raw of ops as Op[]) {
    switch (raw.op) {
      case 'add':
        out = add(out, raw.path, structuredClone(raw.value));
        break;
      case 'remove':
        out = remove(out, raw.path);
        break;
      case 'replace':
        read(out, raw.path);
        out =
          pointer(raw.path).length === 0
            ? structuredClone(raw.value)
            : add(remove(out, raw.path), raw.path, structuredClone(raw.value));
        break;
      case 'move': {
        const v = read(out, raw.from ?? '');
        out = add(remove(out, raw.from ?? ''), raw.path, v);
        break;
      }
      case 'copy':
        out = add(out, raw.path, structuredClone(read(out, raw.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(read(out, raw.path)) !== JSON.stringify(raw.value))
          throw fail(`jsonpatch: test operation failed at ${raw.path}`);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `unexpected json patch operation "${String(raw.op)}"`);
    }
  }
  return out;
}

/** RFC 7386 JSON merge patch: null deletes, objects merge, everything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
