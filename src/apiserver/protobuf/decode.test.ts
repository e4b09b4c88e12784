import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProtobufBody } from './decode.ts';

// A minimal encoder for the test: enough wire format to build real envelopes.
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const bytes = (field: number, payload: number[]) => [
  ...varint((field << 3) | 2),
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s)]);
const int = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
const entry = (field: number, k: string, v: number[]) => bytes(field, [...str(1, k), ...v]);

function envelope(apiVersion: string, kind: string, raw: number[]): Buffer {
  return Buffer.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...bytes(1, [...str(1, apiVersion), ...str(2, kind)]),
    ...bytes(2, raw),
  ]);
}

test('decodes a ConfigMap with metadata, labels and data maps', () => {
  const meta = [...str(1, 'c1'), ...str(3, 'ns'), ...entry(11, 'app', str(2, 'web')), ...bytes(8, [])];
  const raw = [...bytes(1, meta), ...entry(2, 'k', str(2, 'v'))];
  assert.deepEqual(decodeProtobufBody(envelope('v1', 'ConfigMap', raw)), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c1', namespace: 'ns', labels: { app: 'web' } },
    data: { k: 'v' },
  });
});

test('decodes a Deployment: nested messages, repeated fields, replicas 0 kept, IntOrString', () => {
  const container = [...str(1, 'c'), ...str(2, 'busybox')];
  const podSpec = bytes(2, bytes(2, container)); // template.spec.containers[0]
  const strategy = bytes(4, [
    ...str(1, 'RollingUpdate'),
    ...bytes(2, bytes(1, [...int(1, 1), ...str(3, '30%')])),
  ]);
  const spec = [...int(1, 0), ...bytes(3, podSpec), ...strategy];
  const raw = [...bytes(1, str(1, 'd')), ...bytes(2, spec)];
  const out = decodeProtobufBody(envelope('apps/v1', 'Deployment', raw));
  assert.deepEqual(out.spec, {
    replicas: 0,
    template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '30%' } },
  });
});

test('rejects bodies without the envelope and unknown kinds', () => {
  assert.throws(() => decodeProtobufBody(Buffer.from('{}')), /envelope/);
  assert.throws(() => decodeProtobufBody(envelope('v1', 'Nope', [])), /not supported/);
});
