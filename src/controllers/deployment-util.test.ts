import assert from 'node:assert/strict';
import test from 'node:test';
import type { Deployment } from '../client/index.ts';
import {
  equalIgnoreHash,
  maxSurge,
  maxUnavailable,
  podTemplateHash,
  scaledValue,
} from './deployment-util.ts';

const d = (replicas: number, surge: unknown, unavailable: unknown, type = 'RollingUpdate'): Deployment => ({
  metadata: { name: 'x' },
  spec: { replicas, strategy: { type, rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } },
});

const fenceposts = [
  { name: '25% of 4', d: d(4, '25%', '25%'), surge: 1, unavailable: 1 },
  { name: '25% of 10 rounds surge up, unavailable down', d: d(10, '25%', '25%'), surge: 3, unavailable: 2 },
  { name: '0 and 0 becomes unavailable 1', d: d(3, 0, 0), surge: 0, unavailable: 1 },
  { name: '0% of 3 and 0% too', d: d(3, '0%', '10%'), surge: 0, unavailable: 1 },
  { name: 'unavailable capped at replicas', d: d(2, 1, 5), surge: 1, unavailable: 2 },
  { name: 'zero replicas: nothing unavailable', d: d(0, '25%', '25%'), surge: 0, unavailable: 0 },
  {
    name: 'Recreate has no surge or unavailable',
    d: d(4, '25%', '25%', 'Recreate'),
    surge: 0,
    unavailable: 0,
  },
];

for (const tc of fenceposts) {
  test(`fenceposts: ${tc.name}`, () => {
    assert.equal(maxSurge(tc.d), tc.surge);
    assert.equal(maxUnavailable(tc.d), tc.unavailable);
  });
}

test('scaledValue: ints pass through, percents round as asked', () => {
  assert.equal(scaledValue(3, 10, true), 3);
  assert.equal(scaledValue('33%', 10, true), 4);
  assert.equal(scaledValue('33%', 10, false), 3);
});

test('podTemplateHash: stable, key-order independent, safe-encoded, changes with collisionCount', () => {
  const a = podTemplateHash({
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'b' }] },
  });
  const b = podTemplateHash({
    spec: { containers: [{ image: 'b', name: 'c' }] },
    metadata: { labels: { app: 'web' } },
  });
  assert.equal(a, b);
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.notEqual(podTemplateHash({ spec: {} }, 1), podTemplateHash({ spec: {} }));
});

test('equalIgnoreHash: the hash label and null members (creationTimestamp: null) do not count', () => {
  const a = {
    metadata: { creationTimestamp: null, labels: { app: 'web' } },
    spec: { containers: [{ name: 'c' }] },
  };
  const b = {
    metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
    spec: { containers: [{ name: 'c' }] },
  };
  assert.ok(equalIgnoreHash(a, b));
  assert.equal(podTemplateHash(a), podTemplateHash({ metadata: { labels: { app: 'web' } }, spec: b.spec }));
  assert.ok(!equalIgnoreHash(a, { ...b, spec: { containers: [{ name: 'd' }] } }));
});
