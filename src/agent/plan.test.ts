import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Actual, type Attempt, backoffDelay, type PlanSpec, planPod } from './plan.ts';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const running = (attempt = 0): Attempt => ({
  id: `r${attempt}`,
  attempt,
  status: 'running',
  exitCode: 0,
  oomKilled: false,
  startedAt: at(0),
});
const exited = (code: number, finished: number, attempt = 0): Attempt => ({
  id: `e${attempt}`,
  attempt,
  status: 'exited',
  exitCode: code,
  oomKilled: false,
  startedAt: at(0),
  finishedAt: at(finished),
});
const spec = (p: Partial<PlanSpec> = {}): PlanSpec => ({
  initContainers: [],
  containers: ['app'],
  restartPolicy: 'Always',
  ...p,
});
const backoff = { baseMs: 10_000, maxMs: 300_000 };

interface Case {
  name: string;
  spec: PlanSpec;
  actual: Record<string, Attempt[]>;
  /** Seconds after t0. */
  now: number;
  starts: string[];
  removes?: string[];
  retryAfterMs?: number;
  backingOff?: string[];
  initFailed?: boolean;
}

const cases: Case[] = [
  {
    name: 'nothing yet: start every app container',
    spec: spec({ containers: ['a', 'b'] }),
    actual: {},
    now: 0,
    starts: ['a#0', 'b#0'],
  },
  { name: 'running: nothing to do', spec: spec(), actual: { app: [running()] }, now: 5, starts: [] },
  {
    name: 'init containers first, one at a time',
    spec: spec({ initContainers: ['i1', 'i2'] }),
    actual: {},
    now: 0,
    starts: ['i1#0'],
  },
  {
    name: 'second init after the first succeeded',
    spec: spec({ initContainers: ['i1', 'i2'] }),
    actual: { i1: [exited(0, 1)] },
    now: 2,
    starts: ['i2#0'],
  },
  {
    name: 'apps after every init succeeded',
    spec: spec({ initContainers: ['i1'] }),
    actual: { i1: [exited(0, 1)] },
    now: 2,
    starts: ['app#0'],
  },
  {
    name: 'init still running: wait',
    spec: spec({ initContainers: ['i1'] }),
    actual: { i1: [running()] },
    now: 2,
    starts: [],
  },
  {
    name: 'failed init with Never fails the pod',
    spec: spec({ initContainers: ['i1'], restartPolicy: 'Never' }),
    actual: { i1: [exited(1, 1)] },
    now: 2,
    starts: [],
    initFailed: true,
  },
  {
    name: 'failed init with Always restarts it (first restart at once)',
    spec: spec({ initContainers: ['i1'] }),
    actual: { i1: [exited(1, 1)] },
    now: 1,
    starts: ['i1#1'],
  },
  {
    name: 'Always: a clean exit restarts',
    spec: spec(),
    actual: { app: [exited(0, 1)] },
    now: 1,
    starts: ['app#1'],
  },
  {
    name: 'OnFailure: a clean exit stays',
    spec: spec({ restartPolicy: 'OnFailure' }),
    actual: { app: [exited(0, 1)] },
    now: 1,
    starts: [],
  },
  {
    name: 'OnFailure: a failure restarts',
    spec: spec({ restartPolicy: 'OnFailure' }),
    actual: { app: [exited(2, 1)] },
    now: 1,
    starts: ['app#1'],
  },
  {
    name: 'Never: a failure stays',
    spec: spec({ restartPolicy: 'Never' }),
    actual: { app: [exited(2, 1)] },
    now: 1,
    starts: [],
  },
  {
    name: 'second restart waits 10 s after the exit',
    spec: spec(),
    actual: { app: [exited(1, 1, 0), exited(1, 3, 1)] },
    now: 5,
    starts: [],
    retryAfterMs: 8000,
    backingOff: ['app'],
  },
  {
    name: 'second restart once 10 s passed, pruning the oldest attempt',
    spec: spec(),
    actual: { app: [exited(1, 1, 0), exited(1, 3, 1)] },
    now: 13,
    starts: ['app#2'],
    removes: ['e0'],
  },
  {
    name: 'back-off doubles: fourth restart waits 40 s',
    spec: spec(),
    actual: { app: [exited(1, 1, 2), exited(1, 100, 3)] },
    now: 120,
    starts: [],
    retryAfterMs: 20_000,
    backingOff: ['app'],
  },
  {
    name: 'a failed start (never ran) backs off like a crash',
    spec: spec(),
    actual: {
      app: [
        { id: 'x0', attempt: 0, status: 'exited', exitCode: 0, oomKilled: false },
        {
          id: 'x1',
          attempt: 1,
          status: 'exited',
          exitCode: 127,
          oomKilled: false,
          finishedAt: at(0),
          error: 'not found',
        },
      ],
    },
    now: 1,
    starts: [],
    retryAfterMs: 9000,
    backingOff: ['app'],
  },
];

for (const tc of cases) {
  test(tc.name, () => {
    const actual: Actual = new Map(Object.entries(tc.actual));
    const plan = planPod(tc.spec, actual, t0 + tc.now * 1000, backoff);
    const starts = plan.actions.flatMap((a) => (a.type === 'start' ? [`${a.container}#${a.attempt}`] : []));
    const removes = plan.actions.flatMap((a) => (a.type === 'remove' ? [a.id] : []));
    assert.deepEqual(starts, tc.starts);
    assert.deepEqual(removes, tc.removes ?? []);
    assert.equal(plan.retryAfterMs, tc.retryAfterMs);
    assert.deepEqual([...plan.backingOff.keys()], tc.backingOff ?? []);
    assert.equal(plan.initFailed, tc.initFailed ?? false);
  });
}

test('back-off: at once, then 10 s doubling to the 5 min cap', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, backoff) / 1000),
    [0, 10, 20, 40, 80, 160, 300, 300, 300],
  );
});
