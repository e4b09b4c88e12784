import {
  type Condition,
  type Informer,
  type Job,
  keyOf,
  type Pod,
  resources,
  splitKey,
  type Workqueue,
} from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, timestamp, updateStatusFresh } from './controller.ts';
import { EventRecorder } from './events.ts';
import { Expectations } from './expectations.ts';
import { failureBackoffMs, finishedAt, formatIndexes, indexOf, jobPod, parseIndexes } from './job-pods.ts';
import {
  byControllerUid,
  claim,
  controllerRef,
  newControllerRef,
  selectorOf,
  selectsTemplate,
} from './owner-refs.ts';
import { isPodActive, isPodReady, restartCount } from './pod-status.ts';
import { burstReplicas, podsToDelete, slowStartBatch } from './replica-pods.ts';

interface JobSpec {
  parallelism?: number;
  completions?: number | null;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  completionMode?: 'NonIndexed' | 'Indexed';
  suspend?: boolean;
}

const conditionsOf = (job: Job) => (job.status?.conditions ?? []) as Condition[];

/** Complete or Failed (True): the job is done and only its TTL matters. */
export function finishedCondition(job: Job): Condition | undefined {
  return conditionsOf(job).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/**
 * Runs Jobs to completion: keeps `parallelism` pods running until
 * `completions` pods succeeded (or, without completions, one succeeded and the
 * rest finished), one pod per index for Indexed jobs; fails the job after
 * more than `backoffLimit` failed pods (re-creating with back-off meanwhile)
 * or after `activeDeadlineSeconds`; honours `suspend`; deletes finished jobs
 * after `ttlSecondsAfterFinished`. Counts come from the pods it sees (no
 * tracking finalizers): deleting a finished pod can lower `succeeded`/`failed`
 * only down to the last recorded value.
 */
export class JobController implements Controller {
  readonly name = 'job';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 5;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #jobs: Informer<Job>;
  readonly #pods: Informer<Pod>;
  readonly #exp: Expectations;
  readonly #events: EventRecorder;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#exp = new Expectations(ctx.clock);
    this.#events = EventRecorder.forController(ctx, 'job-controller');
    this.#jobs = ctx.informers.informerFor<Job>(resources.jobs);
    this.#pods = ctx.informers.informerFor<Pod>(resources.pods, {}, { controllerUid: byControllerUid });
    this.informers = [this.#jobs, this.#pods];
    this.#jobs.addHandler({
      onAdd: (j) => this.queue.add(keyOf(j)),
      onUpdate: (_, j) => this.queue.add(keyOf(j)),
      onDelete: (j) => this.#exp.forget(keyOf(j)),
    });
    this.#pods.addHandler({
      onAdd: (p) => this.#podEvent(p, 'add'),
      onUpdate: (old, p) => {
        if (old.metadata.resourceVersion !== p.metadata.resourceVersion) this.#podEvent(p, 'update');
      },
      onDelete: (p) => this.#podEvent(p, 'delete'),
    });
  }

  #podEvent(pod: Pod, what: 'add' | 'update' | 'delete'): void {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'Job') return;
    const job = this.#jobs.store.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    if (job?.metadata.uid !== ref.uid) return;
    const key = keyOf(job);
    if (what === 'add' && !pod.metadata.deletionTimestamp) this.#exp.creationObserved(key);
    if (what === 'delete' || (what === 'add' && pod.metadata.deletionTimestamp))
      this.#exp.deletionObserved(key, keyOf(pod));
    this.queue.add(key);
  }

  async reconcile(key: string): Promise<void> {
    const job = this.#jobs.store.get(key);
    if (!job) {
      this.#exp.forget(key);
      return;
    }
    if (finishedCondition(job)) return this.#expire(job);
    const sel = selectorOf(job.spec?.selector);
    if (!sel || !selectsTemplate(sel, job.spec?.template)) {
      this.#events.record(job, 'Warning', 'SelectorMismatch', 'selector does not match template labels');
      return;
    }
    const { namespace } = splitKey(key);
    const pods = await claim({
      client: this.#ctx.client,
      resource: resources.pods,
      owner: job,
      ownerRef: newControllerRef(job, 'batch/v1', 'Job'),
      selector: sel,
      candidates: this.#pods.store.byIndex('namespace', namespace),
      canAdopt: async () => {
        const fresh = await this.#ctx.client.get<Job>(resources.jobs, job.metadata.name ?? '', { namespace });
        if (fresh.metadata.uid !== job.metadata.uid || fresh.metadata.deletionTimestamp)
          throw new NotFoundError(`adopting pods for ${key}: job is gone or being deleted`);
      },
    });
    await this.#sync(key, job, pods);
  }

  async #sync(key: string, job: Job, pods: Pod[]): Promise<void> {
    const spec = (job.spec ?? {}) as JobSpec;
    const nowMs = this.#ctx.clock.now();
    const now = timestamp(nowMs);
    const status: Record<string, unknown> = structuredClone(job.status ?? {});
    const indexed = spec.completionMode === 'Indexed';
    const completions = typeof spec.completions === 'number' ? spec.completions : undefined;
    let active = pods.filter(isPodActive);
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const done = parseIndexes(status.completedIndexes);
    for (const p of succeededPods) {
      const i = indexOf(p);
      if (i !== undefined && i < (completions ?? 0)) done.add(i);
    }
    const succeeded = indexed ? done.size : Math.max(Number(status.succeeded ?? 0), succeededPods.length);
    const failed = Math.max(Number(status.failed ?? 0), failedPods.length);
    if (!status.startTime && !spec.suspend) status.startTime = now;
    const started = Date.parse(String(status.startTime ?? '')) || nowMs;

    let finish: Condition | undefined;
    // With restartPolicy OnFailure pods restart in place: their restarts count as failures (upstream's pastBackoffLimitOnFailure).
    const restarts =
      job.spec?.template?.spec?.restartPolicy === 'OnFailure'
        ? active.reduce((n, p) => n + restartCount(p), 0)
        : 0;
    const limit = spec.backoffLimit ?? 6;
    if (failed > limit || (restarts > 0 && restarts >= limit)) {
      finish = cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
    } else if (
      spec.activeDeadlineSeconds !== undefined &&
      status.startTime &&
      nowMs - started >= spec.activeDeadlineSeconds * 1000
    ) {
      finish = cond('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
    } else if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0) {
      finish = cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    }
    if (finish || spec.suspend) {
      await this.#deletePods(key, active);
      active = [];
    } else if (this.#exp.satisfied(key)) {
      active = await this.#manage(key, job, { spec, active, succeeded, done, failedPods, nowMs });
    }

    let conditions = conditionsOf(job).map((c) => ({ ...c }));
    const suspended = conditions.find((c) => c.type === 'Suspended');
    if (spec.suspend && suspended?.status !== 'True') {
      conditions = conditions.filter((c) => c.type !== 'Suspended');
      conditions.push(cond('Suspended', 'JobSuspended', 'Job suspended', now));
    } else if (!spec.suspend && suspended?.status === 'True') {
      conditions = conditions.filter((c) => c.type !== 'Suspended');
      conditions.push({ ...cond('Suspended', 'JobResumed', 'Job resumed', now), status: 'False' });
    }
    if (finish) {
      conditions.push(finish);
      if (finish.type === 'Complete') status.completionTime = now;
      this.#events.record(
        job,
        finish.type === 'Complete' ? 'Normal' : 'Warning',
        finish.reason ?? '',
        finish.message ?? '',
      );
    }
    if (conditions.length > 0) status.conditions = conditions;
    Object.assign(status, {
      active: active.length,
      ready: active.filter(isPodReady).length,
      succeeded,
      failed,
    });
    if (indexed) status.completedIndexes = formatIndexes(done);
    if (canonicalJsonOf(status) !== canonicalJsonOf(job.status ?? {})) {
      await updateStatusFresh(this.#ctx.client, resources.jobs, { ...structuredClone(job), status });
    }
    if (!finish && spec.activeDeadlineSeconds !== undefined && status.startTime) {
      this.queue.addAfter(key, Math.max(1000, started + spec.activeDeadlineSeconds * 1000 - nowMs));
    }
  }

  /** Creates or deletes pods towards the wanted number; returns the active pods left. */
  async #manage(
    key: string,
    job: Job,
    s: {
      spec: JobSpec;
      active: Pod[];
      succeeded: number;
      done: Set<number>;
      failedPods: Pod[];
      nowMs: number;
    },
  ): Promise<Pod[]> {
    const parallelism = s.spec.parallelism ?? 1;
    const completions = typeof s.spec.completions === 'number' ? s.spec.completions : undefined;
    let want: number;
    let indexes: number[] | undefined;
    if (s.spec.completionMode === 'Indexed') {
      const busy = new Set(s.active.map(indexOf));
      indexes = [];
      for (let i = 0; i < (completions ?? 0); i++) if (!s.done.has(i) && !busy.has(i)) indexes.push(i);
      want = Math.min(parallelism, s.active.length + indexes.length);
    } else if (completions === undefined) {
      want = s.succeeded > 0 ? 0 : parallelism;
    } else {
      want = Math.max(0, Math.min(parallelism, completions - s.succeeded));
    }
    const diff = s.active.length - want;
    if (diff > 0) {
      const victims = podsToDelete(s.active, Math.min(diff, burstReplicas));
      await this.#deletePods(key, victims);
      return s.active.filter((p) => !victims.includes(p));
    }
    if (diff === 0) return s.active;
    // Failed pods are re-created after a growing back-off.
    const lastFailure = Math.max(0, ...s.failedPods.map(finishedAt));
    const wait = lastFailure + failureBackoffMs(s.failedPods.length) - s.nowMs;
    if (s.failedPods.length > 0 && wait > 0) {
      this.queue.addAfter(key, wait);
      return s.active;
    }
    const n = Math.min(-diff, burstReplicas);
    const ref = newControllerRef(job, 'batch/v1', 'Job');
    const queue = indexes ? indexes.slice(0, n) : [];
    this.#exp.expectCreations(key, n);
    const { ok, err } = await slowStartBatch(n, () =>
      this.#ctx.client.create(resources.pods, jobPod(job, ref, indexes ? queue.shift() : undefined)),
    );
    for (let i = ok; i < n; i++) this.#exp.creationObserved(key);
    if (ok > 0) this.#events.record(job, 'Normal', 'SuccessfulCreate', `Created ${ok} pod(s)`);
    if (err) throw err;
    return s.active;
  }

  async #deletePods(key: string, pods: Pod[]): Promise<void> {
    if (pods.length === 0) return;
    this.#exp.expectDeletions(key, pods.map(keyOf));
    for (const p of pods) {
      try {
        await this.#ctx.client.delete(resources.pods, p.metadata.name ?? '', {
          namespace: p.metadata.namespace,
        });
      } catch (err) {
        this.#exp.deletionObserved(key, keyOf(p));
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
  }

  /** Deletes a finished job once ttlSecondsAfterFinished has passed (its pods go with it through the GC). */
  async #expire(job: Job): Promise<void> {
    const ttl = (job.spec as JobSpec | undefined)?.ttlSecondsAfterFinished;
    if (ttl === undefined || job.metadata.deletionTimestamp) return;
    const at = String(job.status?.completionTime ?? finishedCondition(job)?.lastTransitionTime ?? '');
    const due = (Date.parse(at) || 0) + ttl * 1000;
    const left = due - this.#ctx.clock.now();
    if (left > 0) {
      this.queue.addAfter(keyOf(job), left);
      return;
    }
    try {
      await this.#ctx.client.delete(resources.jobs, job.metadata.name ?? '', {
        namespace: job.metadata.namespace,
        propagationPolicy: 'Background',
        preconditions: { uid: job.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

function cond(type: string, reason: string, message: string, now: string): Condition {
  return { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now };
}

export const newJobController = (ctx: ControllerContext) => new JobController(ctx);
