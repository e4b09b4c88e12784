import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheOf, node, pod, scores } from '../fixtures.ts';
import { imageLocality, normalizeImage } from './image-locality.ts';
import { nodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.ts';
import { nodeResourcesLeastAllocated } from './node-resources-least-allocated.ts';

// One file for the three scores that only read a node's totals; each row is one plugin.
const nodes = [node('empty', { cpu: '4', memory: '4Gi' }), node('busy', { cpu: '4', memory: '4Gi' })];
const load = pod('load', { cpu: '2', memory: '1Gi', nodeName: 'busy' });

test('LeastAllocated: free capacity after placing the pod, CPU and memory averaged', () => {
  // empty: cpu (4000-1000)/4000=75, mem (4-1)/4=75 → 75; busy: cpu 25, mem 50 → 37
  assert.deepEqual(
    scores(nodeResourcesLeastAllocated, pod('p', { cpu: '1', memory: '1Gi' }), cacheOf(nodes, [load])),
    {
      empty: 75,
      busy: 37,
    },
  );
});

test('BalancedAllocation: equal CPU and memory fractions score highest', () => {
  // empty: 0.25 vs 0.25 → 100; busy: 0.75 vs 0.5 → (1 - 0.125) × 100 = 87
  assert.deepEqual(
    scores(nodeResourcesBalancedAllocation, pod('p', { cpu: '1', memory: '1Gi' }), cacheOf(nodes, [load])),
    {
      empty: 100,
      busy: 87,
    },
  );
});

test('ImageLocality: nodes holding the image score by size and spread', () => {
  const big = { names: ['docker.io/library/busybox:latest'], sizeBytes: 500 * 1024 * 1024 };
  const c = cacheOf([node('has', { images: [big] }), node('lacks')]);
  const got = scores(imageLocality, pod('p'), c);
  assert.equal(got.lacks, 0);
  assert.ok((got.has ?? 0) > 0 && (got.has ?? 0) < 100, `partial score, got ${got.has}`);
});

for (const [image, want] of [
  ['busybox', 'docker.io/library/busybox:latest'],
  ['nginx:1.25', 'docker.io/library/nginx:1.25'],
  ['user/app', 'docker.io/user/app:latest'],
  ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
  ['ghcr.io/o/r@sha256:abc', 'ghcr.io/o/r@sha256:abc'],
] as const) {
  test(`normalizeImage ${image}`, () => assert.equal(normalizeImage(image), want));
}
