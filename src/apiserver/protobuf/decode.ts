import type { JsonObject } from '../../api/types.ts';
import { badRequest } from '../status.ts';
import { messages } from './schema.ts';
import { WireReader } from './wire.ts';

const magic = [0x6b, 0x38, 0x73, 0x00];
const utf8 = new TextDecoder();

/** Maps an apiVersion's group to the schema package prefix. */
const packages: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  'rbac.authorization.k8s.io': 'rbac',
  policy: 'policy',
  'scheduling.k8s.io': 'scheduling',
  'networking.k8s.io': 'networking',
  'authorization.k8s.io': 'authorization',
  'authentication.k8s.io': 'authentication',
  'meta.k8s.io': 'meta',
  autoscaling: 'autoscaling',
  'autoscaling/v2': 'autoscalingv2',
};

function packageOf(group: string, version: string): string | undefined {
  return packages[`${group}/${version}`] ?? packages[group];
}

interface Field {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
}

const parsed = new Map<string, Map<number, Field>>();

/** The schema message for a kind (`apps.Deployment`), if the tables cover it. */
export function messageName(group: string, kind: string, version = ''): string | undefined {
  const pkg = packageOf(group, version);
  const name = `${pkg}.${kind}`;
  return pkg && messages[name] !== undefined ? name : undefined;
}

/** Field name → element type of one message, for schema walks (unknown-field checks). */
export function messageFields(
  message: string,
): Map<string, { type: string; repeated: boolean; map: boolean }> | undefined {
  const f = fieldsOf(message);
  if (!f) return undefined;
  const out = new Map<string, Field>();
  for (const x of f.values()) {
    if (!inlineFields.has(x.name)) out.set(x.name, x);
    else for (const [k, v] of messageFields(x.type) ?? []) out.set(k, { name: k, ...v });
  }
  return out;
}

export function isScalarMessage(type: string): boolean {
  return specialTypes.has(type);
}

export function fieldsOf(message: string): Map<number, Field> | undefined {
  let m = parsed.get(message);
  if (m) return m;
  const spec = messages[message];
  if (spec === undefined) return undefined;
  m = new Map();
  for (const entry of spec.split(' ')) {
    const [num = '', name = '', rawType = ''] = entry.split(':');
    const repeated = rawType.startsWith('*');
    const t = repeated ? rawType.slice(1) : rawType;
    const map = t.startsWith('@');
    m.set(Number(num), { name, type: map ? t.slice(1) : t, repeated, map });
  }
  parsed.set(message, m);
  return m;
}

const zeroTimeSeconds = -62135596800n;

function decodeValue(r: WireReader, wire: number, type: string): unknown {
  switch (type) {
    case 's':
      return utf8.decode(r.bytes());
    case 'b':
      return Buffer.from(r.bytes()).toString('base64');
    case 'i':
      return Number(BigInt.asIntN(64, r.varint()));
    case 't':
      return r.varint() !== 0n;
    case 'd':
      return r.fixed(8).getFloat64(0, true);
    case 'f':
      return r.fixed(4).getFloat32(0, true);
    default:
      if (wire !== 2) {
        r.skip(wire);
        return undefined;
      }
      return decodeMessage(r.bytes(), type);
  }
}

/** Well-known messages that JSON renders as scalars. */
function decodeSpecial(buf: Uint8Array, type: string): unknown {
  const r = new WireReader(buf);
  const f: Record<number, bigint | Uint8Array> = {};
  while (!r.done) {
    const { field, wire } = r.tag();
    if (wire === 0) f[field] = r.varint();
    else if (wire === 2) f[field] = r.bytes();
    else r.skip(wire);
  }
  const str = (n: number) => (f[n] instanceof Uint8Array ? utf8.decode(f[n] as Uint8Array) : '');
  const int = (n: number) => (typeof f[n] === 'bigint' ? BigInt.asIntN(64, f[n] as bigint) : 0n);
  switch (type) {
    case 'meta.Time':
    case 'meta.MicroTime': {
      const s = int(1);
      // Go's zero time arrives either as year 1 or with no fields at all.
      if (s <= zeroTimeSeconds || (s === 0n && int(2) === 0n)) return undefined;
      const iso = new Date(Number(s) * 1000 + Math.floor(Number(int(2)) / 1e6)).toISOString();
      if (type === 'meta.Time') return iso.replace(/\.\d+Z$/, 'Z');
      return iso.replace(
        /\.(\d+)Z$/,
        (_m, ms: string) => `.${(ms + String(Number(int(2)) % 1e6).padStart(6, '0')).slice(0, 6)}Z`,
      );
    }
    case 'resource.Quantity':
      return str(1);
    case 'intstr.IntOrString':
      return int(1) === 1n ? str(3) : Number(int(2));
    case 'meta.FieldsV1':
    case 'runtime.RawExtension': {
      const raw = str(1);
      return raw ? (JSON.parse(raw) as unknown) : undefined;
    }
    case 'meta.Duration':
      return `${Number(int(1)) / 1e9}s`;
  }
  return undefined;
}

/**
 * Fields Go embeds with `json:",inline"`: their members appear directly in the
 * parent's JSON (the protobuf keeps them as a nested message).
 */
export const inlineFields = new Set([
  'ingressRuleValue',
  'volumeSource',
  'persistentVolumeSource',
  'handler',
  'ephemeralContainerCommon',
  'localObjectReference',
]);

const specialTypes = new Set([
  'meta.Time',
  'meta.MicroTime',
  'resource.Quantity',
  'intstr.IntOrString',
  'meta.FieldsV1',
  'runtime.RawExtension',
  'meta.Duration',
]);

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === '' || v === false || v === 0) return true;
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/**
 * Decodes one message into its JSON form. Go's generated marshalers write
 * non-pointer fields even when they hold zero values, which JSON would omit;
 * zero values are dropped here (except `replicas`, a pointer whose 0 matters).
 */
export function decodeMessage(buf: Uint8Array, type: string): unknown {
  if (specialTypes.has(type)) return decodeSpecial(buf, type);
  const fields = fieldsOf(type);
  if (!fields) return undefined;
  const out: JsonObject = {};
  const r = new WireReader(buf);
  while (!r.done) {
    const { field, wire } = r.tag();
    const f = fields.get(field);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.map) {
      const entry = new WireReader(r.bytes());
      let key = '';
      let value: unknown;
      while (!entry.done) {
        const t = entry.tag();
        if (t.field === 1) key = utf8.decode(entry.bytes());
        else if (t.field === 2) value = decodeValue(entry, t.wire, f.type);
        else entry.skip(t.wire);
      }
      const m = (out[f.name] ?? {}) as JsonObject;
      m[key] = value ?? (f.type === 's' ? '' : value);
      out[f.name] = m;
    } else if (f.repeated) {
      const list = (out[f.name] ?? []) as unknown[];
      if (wire === 2 && f.type === 'i') {
        const packed = new WireReader(r.bytes());
        while (!packed.done) list.push(Number(BigInt.asIntN(64, packed.varint())));
      } else list.push(decodeValue(r, wire, f.type) ?? (f.type.includes('.') ? {} : ''));
      out[f.name] = list;
    } else {
      const v = decodeValue(r, wire, f.type);
      if (inlineFields.has(f.name) && typeof v === 'object' && v !== null) Object.assign(out, v);
      else if (!isEmpty(v) || (f.name === 'replicas' && v === 0)) out[f.name] = v;
    }
  }
  return out;
}

/**
 * Decodes a `k8s\0`-prefixed runtime.Unknown request body into the JSON object
 * it carries (with apiVersion and kind from its TypeMeta).
 */
export function decodeProtobufBody(body: Uint8Array): JsonObject {
  if (body.length < 4 || magic.some((b, i) => body[i] !== b))
    throw badRequest('protobuf body is missing the k8s envelope prefix');
  const r = new WireReader(body, 4);
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const tm = new WireReader(r.bytes());
      while (!tm.done) {
        const t = tm.tag();
        if (t.field === 1) apiVersion = utf8.decode(tm.bytes());
        else if (t.field === 2) kind = utf8.decode(tm.bytes());
        else tm.skip(t.wire);
      }
    } else if (field === 2 && wire === 2) raw = r.bytes();
    else r.skip(wire);
  }
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = kind === 'DeleteOptions' ? 'meta' : packageOf(group ?? '', version ?? '');
  if (!pkg || !messages[`${pkg}.${kind}`])
    throw badRequest(`protobuf decoding of ${apiVersion} ${kind} is not supported; send JSON`);
  const obj = (decodeMessage(raw, `${pkg}.${kind}`) ?? {}) as JsonObject;
  return { apiVersion, kind, ...obj };
}
