import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pod } from './fixtures.ts';
import { type PriorityClass, resolvePriority } from './priority.ts';

const pc = (name: string, value: number, globalDefault = false): PriorityClass => ({
  metadata: { name },
  value,
  globalDefault,
});
const classes = { list: () => [pc('high', 1000), pc('normal', 10, true)] };

const cases: { name: string; priority?: number; className?: string; want?: number }[] = [
  { name: 'class name resolved', className: 'high', want: 1000 },
  { name: 'class wins over a 0 the server stored', className: 'high', priority: 0, want: 1000 },
  { name: 'no class name: global default', want: 10 },
  { name: 'no class name, priority set: kept', priority: 5, want: 5 },
  { name: 'unknown class: left alone', className: 'nope', priority: 3, want: 3 },
];

for (const tc of cases) {
  test(`resolvePriority: ${tc.name}`, () => {
    const p = pod('p', { priority: tc.priority, spec: { priorityClassName: tc.className, containers: [] } });
    assert.equal(resolvePriority(p, classes).spec?.priority, tc.want);
  });
}
