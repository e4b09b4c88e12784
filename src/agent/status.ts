/**
 * The pod status the agent reports, computed from what the engine holds
 * (pure; status.test.ts is its table). Phase follows upstream's getPhase;
 * container states follow the kubelet's: waiting (ContainerCreating,
 * PodInitializing, CrashLoopBackOff, or an error reason the worker hit),
 * running, terminated (Completed, Error, OOMKilled), with lastState,
 * restartCount and ready. Times that have not changed keep their old value
 * so an unchanged pod gives an identical status (the worker skips the write).
 */
import type { Condition, Pod, PodStatus } from '../client/index.ts';
import { type Actual, type Attempt, latest, type Plan } from './plan.ts';
import type { Resources } from './quantity.ts';
import { qosClass } from './quantity.ts';

export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  actual: Actual;
  plan: Plan;
  /** Errors the worker hit per container (ErrImagePull, CreateContainerConfigError...). */
  waiting: Map<string, Waiting>;
  podIP?: string;
  hostIP: string;
  /** Image id per image reference, as the engine resolved it. */
  imageIDs: Map<string, string>;
  /** Readiness per container, when a probe decides it (absent: ready when running). */
  readiness?: Map<string, boolean>;
  now: number;
}

type ContainerStatus = Record<string, unknown> & { name: string; ready: boolean; restartCount: number };
interface SpecContainer {
  name: string;
  image?: string;
  resources?: Resources;
}

export function timeOf(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}
const rfc3339 = (t: string | undefined, fallback: string) => (t ? timeOf(Date.parse(t)) : fallback);

function terminated(a: Attempt, now: string): Record<string, unknown> {
  const reason = a.oomKilled
    ? 'OOMKilled'
    : a.exitCode === 0
      ? 'Completed'
      : a.error
        ? 'StartError'
        : 'Error';
  return {
    terminated: {
      exitCode: a.exitCode,
      reason,
      ...(a.error ? { message: a.error } : {}),
      startedAt: rfc3339(a.startedAt, now),
      finishedAt: rfc3339(a.finishedAt, now),
      containerID: `drover://${a.id}`,
    },
  };
}

function containerStatus(
  c: SpecContainer,
  init: boolean,
  s: StatusInput,
  initsDone: boolean,
): ContainerStatus {
  const now = timeOf(s.now);
  const list = s.actual.get(c.name) ?? [];
  const last = list[list.length - 1];
  const prev = list[list.length - 2];
  const image = c.image ?? '';
  const base = { name: c.name, image, imageID: s.imageIDs.get(image) ?? '' };
  const waitingErr = s.waiting.get(c.name);
  const back = s.plan.backingOff.get(c.name);
  if (!last) {
    const reason = waitingErr?.reason ?? (!init && !initsDone ? 'PodInitializing' : 'ContainerCreating');
    const w = { reason, ...(waitingErr?.message ? { message: waitingErr.message } : {}) };
    return { ...base, state: { waiting: w }, lastState: {}, ready: false, restartCount: 0, started: false };
  }
  const containerID = `drover://${last.id}`;
  const restartCount = last.attempt;
  if (last.status === 'running') {
    const ready = init ? false : (s.readiness?.get(c.name) ?? true);
    return {
      ...base,
      containerID,
      state: { running: { startedAt: rfc3339(last.startedAt, now) } },
      lastState: prev ? terminated(prev, now) : {},
      ready,
      restartCount,
      started: true,
    };
  }
  if (back !== undefined || waitingErr) {
    const pod = s.pod.metadata;
    const w = waitingErr ?? {
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(back! / 1000)}s restarting failed container=${c.name} pod=${pod.name}_${pod.namespace}(${pod.uid})`,
    };
    return {
      ...base,
      containerID,
      state: { waiting: w },
      lastState: terminated(last, now),
      ready: false,
      restartCount,
      started: false,
    };
  }
  return {
    ...base,
    containerID,
    state: terminated(last, now),
    lastState: prev ? terminated(prev, now) : {},
    ready: init && last.exitCode === 0,
    restartCount,
    started: false,
  };
}

/** Upstream's getPhase over the statuses. */
export function phaseOf(
  statuses: ContainerStatus[],
  policy: 'Always' | 'OnFailure' | 'Never',
  initsDone: boolean,
  initFailed: boolean,
): NonNullable<PodStatus['phase']> {
  if (initFailed) return 'Failed';
  if (!initsDone) return 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const cs of statuses) {
    const st = cs.state as { running?: unknown; terminated?: { exitCode: number }; waiting?: unknown };
    const last = (cs.lastState as { terminated?: { exitCode: number } }).terminated;
    if (st.running) running++;
    else if (st.terminated) {
      stopped++;
      if (st.terminated.exitCode === 0) succeeded++;
    } else if (last) {
      stopped++;
      if (last.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export function computeStatus(s: StatusInput): PodStatus {
  const spec = s.pod.spec;
  const inits = (spec?.initContainers ?? []) as SpecContainer[];
  const apps = (spec?.containers ?? []) as SpecContainer[];
  const initsDone = inits.every((c) => {
    const a = latest(s.actual, c.name);
    return a !== undefined && a.status === 'exited' && a.exitCode === 0;
  });
  const initStatuses = inits.map((c) => containerStatus(c, true, s, initsDone));
  const statuses = apps.map((c) => containerStatus(c, false, s, initsDone));
  const policy = spec?.restartPolicy ?? 'Always';
  const phase = phaseOf(statuses, policy, initsDone, s.plan.initFailed);
  const old = s.pod.status ?? {};
  const now = timeOf(s.now);
  const containersReady = statuses.length > 0 && statuses.every((c) => c.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const cond = (type: string, ok: boolean, reason?: string): Condition => {
    const status = ok ? 'True' : 'False';
    const prev = (old.conditions ?? []).find((c) => c.type === type);
    return {
      type,
      status,
      ...(reason && !ok ? { reason } : {}),
      lastProbeTime: null,
      lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    };
  };
  const notReady = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const conditions = [
    cond('PodReadyToStartContainers', s.podIP !== undefined || spec?.hostNetwork === true),
    cond('Initialized', initsDone, terminal ? 'PodCompleted' : 'ContainersNotInitialized'),
    cond('Ready', containersReady && !terminal, notReady),
    cond('ContainersReady', containersReady && !terminal, notReady),
    cond('PodScheduled', true),
  ];
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: s.hostIP,
    hostIPs: [{ ip: s.hostIP }],
    startTime: old.startTime ?? now,
    qosClass: qosClass([...inits, ...apps]),
    containerStatuses: statuses,
  };
  if (s.podIP) Object.assign(status, { podIP: s.podIP, podIPs: [{ ip: s.podIP }] });
  if (inits.length > 0) status.initContainerStatuses = initStatuses;
  return status;
}
