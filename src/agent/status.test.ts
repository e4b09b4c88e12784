import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../client/index.ts';
import { type Actual, type Attempt, planPod } from './plan.ts';
import { computeStatus, type Waiting } from './status.ts';

const now = Date.parse('2026-01-01T00:01:00Z');
const t = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
const run = (attempt = 0): Attempt => ({
  id: `id${attempt}`,
  attempt,
  status: 'running',
  exitCode: 0,
  oomKilled: false,
  startedAt: t(1),
});
const exit = (code: number, attempt = 0, oom = false): Attempt => ({
  id: `id${attempt}`,
  attempt,
  status: 'exited',
  exitCode: code,
  oomKilled: oom,
  startedAt: t(1),
  finishedAt: t(55),
});

function pod(spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'busybox' }], restartPolicy: 'Always', ...spec },
  };
}

interface Case {
  name: string;
  pod: Pod;
  actual: Record<string, Attempt[]>;
  waiting?: Record<string, Waiting>;
  phase: string;
  /** container → state key and reason */
  states: Record<string, string>;
  ready?: boolean;
  restarts?: number;
}

const cases: Case[] = [
  {
    name: 'nothing started: Pending, ContainerCreating',
    pod: pod({}),
    actual: {},
    phase: 'Pending',
    states: { app: 'waiting:ContainerCreating' },
  },
  {
    name: 'running: Running and Ready',
    pod: pod({}),
    actual: { app: [run()] },
    phase: 'Running',
    states: { app: 'running' },
    ready: true,
  },
  {
    name: 'image missing: Pending with the error reason',
    pod: pod({}),
    actual: {},
    waiting: { app: { reason: 'ErrImagePull', message: 'x' } },
    phase: 'Pending',
    states: { app: 'waiting:ErrImagePull' },
  },
  {
    name: 'crash-looping: Running, CrashLoopBackOff, restartCount',
    pod: pod({}),
    actual: { app: [exit(1, 0), exit(1, 1)] },
    phase: 'Running',
    states: { app: 'waiting:CrashLoopBackOff' },
    restarts: 1,
  },
  {
    name: 'Never and exit 0: Succeeded, Completed',
    pod: pod({ restartPolicy: 'Never' }),
    actual: { app: [exit(0)] },
    phase: 'Succeeded',
    states: { app: 'terminated:Completed' },
  },
  {
    name: 'Never and exit 1: Failed, Error',
    pod: pod({ restartPolicy: 'Never' }),
    actual: { app: [exit(1)] },
    phase: 'Failed',
    states: { app: 'terminated:Error' },
  },
  {
    name: 'OOM kill: OOMKilled',
    pod: pod({ restartPolicy: 'Never' }),
    actual: { app: [exit(137, 0, true)] },
    phase: 'Failed',
    states: { app: 'terminated:OOMKilled' },
  },
  {
    name: 'init running: Pending, app PodInitializing',
    pod: pod({ initContainers: [{ name: 'init', image: 'busybox' }] }),
    actual: { init: [run()] },
    phase: 'Pending',
    states: { init: 'running', app: 'waiting:PodInitializing' },
  },
  {
    name: 'init failed with Never: Failed',
    pod: pod({ initContainers: [{ name: 'init', image: 'busybox' }], restartPolicy: 'Never' }),
    actual: { init: [exit(3)] },
    phase: 'Failed',
    states: { init: 'terminated:Error', app: 'waiting:PodInitializing' },
  },
  {
    name: 'two containers, one done with OnFailure: Running',
    pod: pod({ restartPolicy: 'OnFailure', containers: [{ name: 'a' }, { name: 'b' }] }),
    actual: { a: [exit(0)], b: [run()] },
    phase: 'Running',
    states: { a: 'terminated:Completed', b: 'running' },
  },
];

function stateKey(s: Record<string, Record<string, { reason?: string }>>): string {
  const [k, v] = Object.entries(s)[0] ?? ['', {}];
  return v.reason ? `${k}:${v.reason}` : k;
}

for (const tc of cases) {
  test(tc.name, () => {
    const actual: Actual = new Map(Object.entries(tc.actual));
    const spec = {
      initContainers: (tc.pod.spec?.initContainers ?? []).map((c) => c.name),
      containers: (tc.pod.spec?.containers ?? []).map((c) => c.name),
      restartPolicy: tc.pod.spec?.restartPolicy ?? 'Always',
    };
    const plan = planPod(spec, actual, now);
    const s = computeStatus({
      pod: tc.pod,
      actual,
      plan,
      waiting: new Map(Object.entries(tc.waiting ?? {})),
      podIP: '10.42.0.5',
      hostIP: '192.0.2.1',
      imageIDs: new Map(),
      now,
    });
    assert.equal(s.phase, tc.phase);
    const all = [
      ...((s.initContainerStatuses ?? []) as object[]),
      ...((s.containerStatuses ?? []) as object[]),
    ] as {
      name: string;
      state: Record<string, Record<string, { reason?: string }>>;
      restartCount: number;
    }[];
    const got = Object.fromEntries(all.map((c) => [c.name, stateKey(c.state as never)]));
    assert.deepEqual(got, tc.states);
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, tc.ready ? 'True' : 'False');
    if (tc.restarts !== undefined) assert.equal(all.find((c) => c.name === 'app')?.restartCount, tc.restarts);
    assert.equal(s.podIP, '10.42.0.5');
    assert.equal(s.qosClass, 'BestEffort');
  });
}

test('an unchanged condition keeps its transition time', () => {
  const p = pod({});
  const input = {
    pod: p,
    actual: new Map([['app', [run()]]]) as Actual,
    waiting: new Map(),
    hostIP: 'h',
    imageIDs: new Map(),
    podIP: '1',
  };
  const plan = planPod(
    { initContainers: [], containers: ['app'], restartPolicy: 'Always' },
    input.actual,
    now,
  );
  const first = computeStatus({ ...input, plan, now });
  const second = computeStatus({ ...input, pod: { ...p, status: first }, plan, now: now + 60_000 });
  assert.deepEqual(second, first);
});
