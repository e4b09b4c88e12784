import {
  type Informer,
  type Job,
  type KubeObject,
  keyOf,
  resources,
  type Workqueue,
} from '../client/index.ts';
import { parseSchedule, type Schedule } from '../lib/cron.ts';
import { AlreadyExistsError, describeError, NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, timestamp, updateStatusFresh } from './controller.ts';
import { EventRecorder } from './events.ts';
import { finishedCondition } from './job.ts';
import { byControllerUid, controllerRef, newControllerRef } from './owner-refs.ts';

interface CronJobSpec {
  schedule?: string;
  timeZone?: string;
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  suspend?: boolean;
  startingDeadlineSeconds?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: { metadata?: KubeObject['metadata']; spec?: Record<string, unknown> };
}

export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** Walks at most this many missed times looking for the latest (upstream gives up at 100 and starts the latest too). */
const maxMissedWalk = 100_000;

/**
 * Starts Jobs from CronJobs on their schedule: the latest missed time since
 * the last run (within startingDeadlineSeconds) starts one Job named
 * `<cronjob>-<minutes since epoch>`, subject to concurrencyPolicy (Allow,
 * Forbid: skip while one runs, Replace: delete the running ones) and suspend;
 * keeps status.active/lastScheduleTime/lastSuccessfulTime; trims finished
 * Jobs to the history limits; and sleeps on the workqueue until the next time.
 */
export class CronJobController implements Controller {
  readonly name = 'cronjob';
  readonly queue: Workqueue<string>;
  /** Upstream's default concurrent syncs for this controller. */
  readonly workers = 5;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #cronJobs: Informer<KubeObject>;
  readonly #jobs: Informer<Job>;
  readonly #events: EventRecorder;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'cronjob-controller');
    this.#cronJobs = ctx.informers.informerFor(resources.cronJobs);
    this.#jobs = ctx.informers.informerFor<Job>(resources.jobs, {}, { controllerUid: byControllerUid });
    this.informers = [this.#cronJobs, this.#jobs];
    this.#cronJobs.addHandler({
      onAdd: (c) => this.queue.add(keyOf(c)),
      onUpdate: (_, c) => this.queue.add(keyOf(c)),
    });
    const jobChanged = (j: Job) => {
      const ref = controllerRef(j);
      if (ref?.kind === 'CronJob') this.queue.add(`${j.metadata.namespace ?? ''}/${ref.name}`);
    };
    this.#jobs.addHandler({ onAdd: jobChanged, onUpdate: (_, j) => jobChanged(j), onDelete: jobChanged });
  }

  async reconcile(key: string): Promise<void> {
    const cj = this.#cronJobs.store.get(key);
    if (!cj) return;
    const spec = (cj.spec ?? {}) as CronJobSpec;
    const nowMs = this.#ctx.clock.now();
    const status: Record<string, unknown> = structuredClone(cj.status ?? {});
    let jobs = this.#jobs.store.byIndex('controllerUid', cj.metadata.uid ?? '');
    jobs = await this.#trimHistory(spec, jobs);
    let running = jobs.filter((j) => !finishedCondition(j));
    const writeStatus = async () => {
      if (running.length > 0)
        status.active = running.map(objectRef).sort((a, b) => a.name.localeCompare(b.name));
      else delete status.active;
      for (const j of jobs) {
        const done = finishedCondition(j);
        const t = String(j.status?.completionTime ?? '');
        if (done?.type === 'Complete' && t && t > String(status.lastSuccessfulTime ?? ''))
          status.lastSuccessfulTime = t;
      }
      if (canonicalJsonOf(status) !== canonicalJsonOf(cj.status ?? {})) {
        await updateStatusFresh(this.#ctx.client, resources.cronJobs, { ...structuredClone(cj), status });
      }
    };
    if (cj.metadata.deletionTimestamp || spec.suspend) return writeStatus();
    let schedule: Schedule;
    try {
      schedule = parseSchedule(spec.schedule ?? '', spec.timeZone);
    } catch (err) {
      // Validation should have refused it; wait for the next edit, do not retry.
      this.#events.record(
        cj,
        'Warning',
        'UnparseableSchedule',
        `unparseable schedule: ${describeError(err)}`,
      );
      return writeStatus();
    }
    let earliest =
      Date.parse(String(status.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '')) || nowMs;
    if (spec.startingDeadlineSeconds !== undefined)
      earliest = Math.max(earliest, nowMs - spec.startingDeadlineSeconds * 1000 - 60_000);
    let due: number | undefined;
    for (let i = 0, at = schedule.next(earliest); at !== undefined && at <= nowMs && i < maxMissedWalk; i++) {
      due = at;
      at = schedule.next(at);
    }
    const next = schedule.next(nowMs);
    if (next !== undefined) this.queue.addAfter(key, next - nowMs + 100);
    if (due === undefined) return writeStatus();
    if (spec.startingDeadlineSeconds !== undefined && due + spec.startingDeadlineSeconds * 1000 < nowMs) {
      this.#events.record(
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${timestamp(due)}`,
      );
      return writeStatus();
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && running.length > 0) {
      this.#ctx.log.debug({ key }, 'prior job still running; concurrencyPolicy Forbid');
      return writeStatus();
    }
    if (policy === 'Replace') {
      for (const j of running) await this.#deleteJob(j);
      running = [];
    }
    const job = await this.#createJob(cj, spec, due, jobs);
    if (job && !running.some((j) => j.metadata.uid === job.metadata.uid)) running.push(job);
    status.lastScheduleTime = timestamp(due);
    return writeStatus();
  }

  async #createJob(cj: KubeObject, spec: CronJobSpec, due: number, jobs: Job[]): Promise<Job | undefined> {
    const name = `${cj.metadata.name ?? ''}-${Math.floor(due / 60_000)}`;
    const existing = jobs.find((j) => j.metadata.name === name);
    if (existing) return existing;
    const meta = spec.jobTemplate?.metadata ?? {};
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...meta.labels },
        annotations: { ...meta.annotations, [scheduledTimestampAnnotation]: timestamp(due) },
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: structuredClone(spec.jobTemplate?.spec ?? {}),
    };
    try {
      const created = await this.#ctx.client.create(resources.jobs, job);
      this.#events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      return created;
    } catch (err) {
      if (err instanceof AlreadyExistsError) return undefined;
      this.#events.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${describeError(err)}`);
      throw err;
    }
  }

  /** Deletes the oldest finished Jobs beyond the history limits; returns the Jobs left. */
  async #trimHistory(spec: CronJobSpec, jobs: Job[]): Promise<Job[]> {
    const started = (j: Job) => String(j.status?.startTime ?? j.metadata.creationTimestamp ?? '');
    const gone = new Set<Job>();
    for (const [type, limit] of [
      ['Complete', spec.successfulJobsHistoryLimit ?? 3],
      ['Failed', spec.failedJobsHistoryLimit ?? 1],
    ] as const) {
      const done = jobs
        .filter((j) => finishedCondition(j)?.type === type)
        .sort((a, b) => started(a).localeCompare(started(b)));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        await this.#deleteJob(j);
        gone.add(j);
      }
    }
    return jobs.filter((j) => !gone.has(j));
  }

  async #deleteJob(j: Job): Promise<void> {
    try {
      await this.#ctx.client.delete(resources.jobs, j.metadata.name ?? '', {
        namespace: j.metadata.namespace,
        propagationPolicy: 'Background',
        preconditions: { uid: j.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

function objectRef(j: Job) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: j.metadata.name ?? '',
    namespace: j.metadata.namespace,
    uid: j.metadata.uid,
  };
}

export const newCronJobController = (ctx: ControllerContext) => new CronJobController(ctx);
