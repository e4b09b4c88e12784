/**
 * The pod worker's decisions, kept pure so a table test can cover them:
 * given the pod's spec and what the engine holds for it (every attempt of
 * every container, from the labels), what to start, what to remove, and when
 * to look again. Upstream's computePodActions, without sandboxes (the worker
 * sets the sandbox up before asking).
 *
 * Rules: init containers run one at a time in order, each to exit 0 (a
 * failed one is retried unless restartPolicy is Never, then the pod fails);
 * then every app container starts; an exited one is started again as
 * restartPolicy says, after the crash back-off: the first restart at once,
 * then base, 2*base, ... up to max after the previous attempt finished.
 * Only the latest two attempts of a container are kept (the previous one
 * feeds lastState and `logs --previous`).
 */

export interface Attempt {
  id: string;
  attempt: number;
  status: 'created' | 'running' | 'exited';
  exitCode: number;
  oomKilled: boolean;
  /** RFC 3339; undefined when it never started. */
  startedAt?: string;
  /** RFC 3339; for a start that failed, when it failed. */
  finishedAt?: string;
  /** The engine's error, when the start failed. */
  error?: string;
}

/** Container name to its attempts, oldest first. */
export type Actual = Map<string, Attempt[]>;

export type Action =
  | { type: 'start'; container: string; attempt: number; init: boolean }
  | { type: 'remove'; id: string; container: string };

export interface PlanSpec {
  initContainers: string[];
  containers: string[];
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export interface Plan {
  actions: Action[];
  /** Look again after this long (a back-off ends); undefined: only on events. */
  retryAfterMs?: number;
  /** Containers waiting out a crash back-off, with its length (for the CrashLoopBackOff message). */
  backingOff: Map<string, number>;
  /** An init container failed for good (restartPolicy Never): nothing more will run. */
  initFailed: boolean;
}

export const defaultBackoff: Backoff = { baseMs: 10_000, maxMs: 300_000 };

/** The wait before restart number `restarts + 1`. */
export function backoffDelay(restarts: number, b: Backoff): number {
  if (restarts <= 0) return 0;
  return Math.min(b.baseMs * 2 ** Math.min(restarts - 1, 30), b.maxMs);
}

export function latest(actual: Actual, name: string): Attempt | undefined {
  const list = actual.get(name);
  return list?.[list.length - 1];
}

function isDone(a: Attempt | undefined): a is Attempt {
  return a !== undefined && a.status !== 'running';
}

function shouldRestart(a: Attempt, policy: PlanSpec['restartPolicy'], init: boolean): boolean {
  if (init) return a.exitCode !== 0 && policy !== 'Never';
  return policy === 'Always' || (policy === 'OnFailure' && a.exitCode !== 0);
}

export function planPod(
  spec: PlanSpec,
  actual: Actual,
  now: number,
  backoff: Backoff = defaultBackoff,
): Plan {
  const plan: Plan = { actions: [], backingOff: new Map(), initFailed: false };
  const wake = (ms: number) => {
    plan.retryAfterMs = plan.retryAfterMs === undefined ? ms : Math.min(plan.retryAfterMs, ms);
  };
  const consider = (name: string, init: boolean): 'running' | 'done' | 'started' | 'waiting' | 'failed' => {
    const last = latest(actual, name);
    if (!last) {
      plan.actions.push({ type: 'start', container: name, attempt: 0, init });
      return 'started';
    }
    if (!isDone(last)) return 'running';
    if (!shouldRestart(last, spec.restartPolicy, init)) return last.exitCode === 0 ? 'done' : 'failed';
    const delay = backoffDelay(last.attempt, backoff);
    const since = now - Date.parse(last.finishedAt ?? last.startedAt ?? new Date(now).toISOString());
    if (since < delay) {
      plan.backingOff.set(name, delay);
      wake(delay - since);
      return 'waiting';
    }
    plan.actions.push({ type: 'start', container: name, attempt: last.attempt + 1, init });
    return 'started';
  };
  for (const name of spec.initContainers) {
    const r = consider(name, true);
    if (r === 'failed') plan.initFailed = true;
    if (r !== 'done') return withPruning(plan, actual);
  }
  for (const name of spec.containers) consider(name, false);
  return withPruning(plan, actual);
}

/** Removes every attempt but the latest two of each container (the latest one once a new one starts). */
function withPruning(plan: Plan, actual: Actual): Plan {
  const starting = new Set(plan.actions.map((a) => (a.type === 'start' ? a.container : '')));
  for (const [name, list] of actual) {
    const keep = starting.has(name) ? 1 : 2;
    for (const a of list.slice(0, Math.max(0, list.length - keep))) {
      plan.actions.unshift({ type: 'remove', id: a.id, container: name });
    }
  }
  return plan;
}
