import { isObject, type JsonObject } from '../api/types.ts';
import { ConflictError, InvalidError } from '../lib/errors.ts';

/**
 * Patch semantics for FakeClient. Merge patch is RFC 7386. Strategic merge and
 * apply are approximated by merge patch (lists replace instead of merging by
 * key), which is enough for the metadata/status/spec patches controllers send;
 * tests that depend on list merging belong against the real server.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

/** RFC 6902 JSON patch (add, remove, replace, test, move, copy). Returns a new document. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new InvalidError('applying json patch: the patch must be an array');
  let cur = structuredClone(doc);
  for (const op of ops as Operation[]) {
    const value = structuredClone(op.value);
    if (op.op === 'test') {
      if (JSON.stringify(read(cur, op.path)) !== JSON.stringify(value)) {
        throw new ConflictError(`applying json patch: test failed at ${op.path}`);
      }
    } else if (op.op === 'remove') cur = write(cur, op.path, undefined, 'remove');
    else if (op.op === 'add' || op.op === 'replace') cur = write(cur, op.path, value, op.op);
    else if (op.op === 'move' || op.op === 'copy') {
      const v = structuredClone(read(cur, op.from ?? ''));
      if (op.op === 'move') cur = write(cur, op.from ?? '', undefined, 'remove');
      cur = write(cur, op.path, v, 'add');
    } else throw new InvalidError(`applying json patch: unknown op ${(op as { op: string }).op}`);
  }
  return cur;
}

function tokens(path: string): string[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function read(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const t of tokens(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else throw new InvalidError(`applying json patch: path ${path} does not exist`);
  }
  return cur;
}

function write(doc: unknown, path: string, value: unknown, op: 'add' | 'replace' | 'remove'): unknown {
  const ts = tokens(path);
  const last = ts.pop();
  if (last === undefined) return value;
  const parent = read(doc, ts.length ? `/${ts.join('/')}` : '');
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) {
      throw new InvalidError(`applying json patch: bad index in ${path}`);
    }
    if (op === 'add') parent.splice(i, 0, value);
    else if (op === 'replace') parent[i] = value;
    else parent.splice(i, 1);
  } else if (isObject(parent)) {
    if (op !== 'add' && !(last in parent))
      throw new InvalidError(`applying json patch: ${path} does not exist`);
    if (op === 'remove') delete parent[last];
    else parent[last] = value;
  } else throw new InvalidError(`applying json patch: parent of ${path} does not exist`);
  return doc;
}
