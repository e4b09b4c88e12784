import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../client/index.ts';
import { cacheOf, filterReasons, node, pod } from '../fixtures.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';

const existing = pod('old', { cpu: '1500m', memory: '1Gi', nodeName: 'n' });
const cases: { name: string; pod: Pod; maxPods?: number; want?: string[] }[] = [
  { name: 'fits', pod: pod('p', { cpu: '500m', memory: '1Gi' }) },
  { name: 'insufficient cpu', pod: pod('p', { cpu: '600m' }), want: ['Insufficient cpu'] },
  {
    name: 'insufficient cpu and memory',
    pod: pod('p', { cpu: '1', memory: '2500Mi' }),
    want: ['Insufficient cpu', 'Insufficient memory'],
  },
  { name: 'too many pods', pod: pod('p'), maxPods: 1, want: ['Too many pods'] },
  {
    name: 'init container max rule: the largest init container counts when above the sum',
    pod: pod('p', {
      spec: {
        containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '600m' } } }],
      },
    }),
    want: ['Insufficient cpu'],
  },
  {
    name: 'init containers below the sum do not add',
    pod: pod('p', {
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '300m' } } },
          { name: 'b', resources: { requests: { cpu: '200m' } } },
        ],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '400m' } } }],
      },
    }),
  },
  {
    name: 'pod overhead counts',
    pod: pod('p', { cpu: '400m', spec: { overhead: { cpu: '200m' } } }),
    want: ['Insufficient cpu'],
  },
  {
    name: 'limits stand in for missing requests',
    pod: pod('p', { spec: { containers: [{ name: 'a', resources: { limits: { memory: '3Gi' } } }] } }),
    want: ['Insufficient memory'],
  },
  {
    name: 'extended resources',
    pod: pod('p', {
      spec: { containers: [{ name: 'a', resources: { requests: { 'nvidia.com/gpu': '1' } } }] },
    }),
    want: ['Insufficient nvidia.com/gpu'],
  },
];

for (const tc of cases) {
  test(`NodeResourcesFit: ${tc.name}`, () => {
    const c = cacheOf([node('n', { cpu: '2', memory: '3Gi', pods: tc.maxPods })], [existing]);
    assert.deepEqual(filterReasons(nodeResourcesFit, tc.pod, c, 'n'), tc.want);
  });
}
