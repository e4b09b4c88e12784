import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pod } from '../fixtures.ts';
import type { QueuedPod } from '../queue.ts';
import { less } from './priority-sort.ts';

const q = (priority: number | undefined, timestamp: number): QueuedPod => ({
  pod: pod('p', { priority }),
  key: 'default/p',
  timestamp,
  initialAttempt: timestamp,
  attempts: 0,
  unschedulablePlugins: new Set(),
  cycle: 0,
});

const cases: { name: string; a: QueuedPod; b: QueuedPod; want: boolean }[] = [
  { name: 'higher priority first', a: q(10, 5), b: q(1, 1), want: true },
  { name: 'lower priority later', a: q(1, 1), b: q(10, 5), want: false },
  { name: 'equal priority: older first', a: q(5, 1), b: q(5, 2), want: true },
  { name: 'no priority counts as 0', a: q(undefined, 1), b: q(-1, 0), want: true },
];

for (const tc of cases) test(`PrioritySort: ${tc.name}`, () => assert.equal(less(tc.a, tc.b), tc.want));
