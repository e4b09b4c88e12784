import assert from 'node:assert/strict';
import test from 'node:test';
import { formatQuantity, missingResources, trackedBy, usageOf } from './quota.ts';
import type { KubeObject } from './types.ts';

const formats: [number, string, string][] = [
  [0, '', '0'],
  [500, '', '500m'],
  [1500, '', '1500m'],
  [2000, '', '2'],
  [2_000_000, '', '2k'],
  [64 * 2 ** 20 * 1000, '1Gi', '64Mi'],
  [1536 * 2 ** 20 * 1000, '10Gi', '1536Mi'],
  [1000 * 1000, '1Gi', '1k'],
  [1500 * 1000, '1Gi', '1500'],
];
for (const [milli, like, want] of formats) {
  test(`formatQuantity(${milli}, ${like || 'DecimalSI'}) = ${want}`, () =>
    assert.equal(formatQuantity(milli, like), want));
}

const tracked: [string, ReturnType<typeof trackedBy>][] = [
  ['pods', { group: '', plural: 'pods' }],
  ['cpu', { group: '', plural: 'pods' }],
  ['limits.memory', { group: '', plural: 'pods' }],
  ['services.nodeports', { group: '', plural: 'services' }],
  ['requests.storage', { group: '', plural: 'persistentvolumeclaims' }],
  ['count/deployments.apps', { group: 'apps', plural: 'deployments' }],
  ['count/widgets.example.com', { group: 'example.com', plural: 'widgets' }],
  ['bogus', undefined],
];
for (const [name, want] of tracked) test(`trackedBy(${name})`, () => assert.deepEqual(trackedBy(name), want));

const pod: KubeObject = {
  metadata: { name: 'p' },
  spec: {
    initContainers: [{ name: 'init', resources: { requests: { cpu: '2' } } }],
    containers: [
      { name: 'a', resources: { requests: { cpu: '250m' }, limits: { memory: '64Mi' } } },
      { name: 'b', resources: { limits: { cpu: '500m', memory: '64Mi' } } },
    ],
    overhead: { cpu: '10m' },
  },
};

test('usageOf a pod: init containers, limits as requests, overhead, aliases', () => {
  const u = usageOf(pod, { group: '', plural: 'pods' }, [
    'pods',
    'cpu',
    'requests.memory',
    'limits.cpu',
    'services',
  ]);
  assert.deepEqual(Object.fromEntries(u), {
    pods: 1000,
    cpu: 2010,
    'requests.memory': 128 * 2 ** 20 * 1000,
    'limits.cpu': 510,
  });
});

test('a finished pod, or one stuck terminating, uses nothing but its count/pods', () => {
  const names = ['pods', 'count/pods', 'cpu'];
  const failed = usageOf({ ...pod, status: { phase: 'Failed' } }, { group: '', plural: 'pods' }, names);
  assert.deepEqual(Object.fromEntries(failed), { 'count/pods': 1000 });
  const meta = { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 };
  const stuck = { ...pod, metadata: meta };
  const at = (iso: string) =>
    Object.keys(Object.fromEntries(usageOf(stuck, { group: '', plural: 'pods' }, names, Date.parse(iso))));
  assert.deepEqual(at('2026-01-01T00:00:20Z'), names);
  assert.deepEqual(at('2026-01-01T00:00:31Z'), ['count/pods']);
});

test('missingResources names containers per resource', () => {
  assert.equal(
    missingResources(pod, ['limits.cpu', 'requests.memory', 'pods']),
    'must specify limits.cpu for: a,init; requests.memory for: init',
  );
  assert.equal(missingResources(pod, ['pods']), undefined);
});
