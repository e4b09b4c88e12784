import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../client/index.ts';
import { pickVictim } from './eviction.ts';

function pod(name: string, resources: object | undefined, created: string, phase = 'Running'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, creationTimestamp: created },
    spec: { containers: [{ name: 'c', resources }] },
    status: { phase: phase as 'Running' },
  };
}
const guaranteed = { limits: { cpu: '1', memory: '1Gi' } };
const burstable = { requests: { memory: '10Mi' } };

const cases = [
  {
    name: 'BestEffort before Burstable and Guaranteed',
    pods: [pod('g', guaranteed, '1'), pod('b', burstable, '1'), pod('e', undefined, '1')],
    want: 'e',
  },
  {
    name: 'Burstable before Guaranteed',
    pods: [pod('g', guaranteed, '1'), pod('b', burstable, '1')],
    want: 'b',
  },
  {
    name: 'newest first within a class',
    pods: [pod('old', undefined, '2026-01-01'), pod('new', undefined, '2026-01-02')],
    want: 'new',
  },
  {
    name: 'finished pods are not candidates',
    pods: [pod('done', undefined, '1', 'Succeeded'), pod('g', guaranteed, '1')],
    want: 'g',
  },
  { name: 'nothing to evict', pods: [pod('done', undefined, '1', 'Failed')], want: undefined },
];
for (const tc of cases) test(tc.name, () => assert.equal(pickVictim(tc.pods)?.metadata.name, tc.want));
