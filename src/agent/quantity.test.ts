import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuantity } from '../api/quantity.ts';
import { engineResources, qosClass } from './quantity.ts';

test('quantities', () => {
  assert.equal(parseQuantity('100m'), 0.1);
  assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('2'), 2);
  assert.throws(() => parseQuantity('lots'));
});

test('engine limits: memory bytes, NanoCpus from the limit, shares from the request', () => {
  assert.deepEqual(engineResources({ requests: { cpu: '250m' }, limits: { cpu: '1', memory: '64Mi' } }), {
    Memory: 64 * 2 ** 20,
    NanoCpus: 1e9,
    CpuShares: 256,
  });
  assert.deepEqual(engineResources(undefined), { CpuShares: 2 });
});

const cases = [
  { name: 'no resources', cs: [{}], want: 'BestEffort' },
  {
    name: 'limits only (requests default to them)',
    cs: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }],
    want: 'Guaranteed',
  },
  {
    name: 'requests below limits',
    cs: [{ resources: { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1Gi' } } }],
    want: 'Burstable',
  },
  {
    name: 'one container without',
    cs: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }, {}],
    want: 'Burstable',
  },
] as const;
for (const tc of cases) test(`qos: ${tc.name}`, () => assert.equal(qosClass(tc.cs as never), tc.want));
