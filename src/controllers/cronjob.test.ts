import assert from 'node:assert/strict';
import test from 'node:test';
import type { Job, KubeObject, Resource } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { newCronJobController } from './cronjob.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';

const at = (s: number) => new Date(start + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const jobName = (s: number) => `hello-${Math.floor((start + s * 1000) / 60_000)}`;

function cronJob(
  spec: Record<string, unknown> = {},
  status: Record<string, unknown> = { lastScheduleTime: at(-3600) },
): KubeObject {
  return {
    metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid' },
    spec: {
      schedule: '@hourly',
      concurrencyPolicy: 'Allow',
      jobTemplate: {
        metadata: { labels: { app: 'hello' } },
        spec: { template: { spec: { containers: [{ name: 'c' }] } } },
      },
      ...spec,
    },
    status,
  };
}
function job(name: string, state: 'running' | 'Complete' | 'Failed', startedAgo = 0): Job {
  return {
    metadata: {
      name,
      namespace: 'default',
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true },
      ],
    },
    spec: {},
    status: {
      startTime: at(-startedAgo),
      ...(state === 'running' ? { active: 1 } : { conditions: [{ type: state, status: 'True' }] }),
      ...(state === 'Complete' ? { completionTime: at(-startedAgo + 5) } : {}),
    },
  };
}
const C = (o: KubeObject): [Resource, KubeObject] => [resources.cronJobs, o];
const J = (o: KubeObject): [Resource, KubeObject] => [resources.jobs, o];

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  /** Seconds to move the clock before reconciling. */
  advance?: number;
  want: string[];
  requeued?: boolean;
  check?: (cj: KubeObject | undefined, jobs: Job[]) => void;
}

const cases: Case[] = [
  {
    name: 'a due time starts a job named after it, owned by the CronJob',
    objects: [C(cronJob())],
    want: ['create jobs', 'update cronjobs/status hello'],
    requeued: true,
    check: (cj, jobs) => {
      assert.equal(jobs[0]?.metadata.name, jobName(0));
      assert.equal(jobs[0]?.metadata.labels?.app, 'hello');
      assert.equal(jobs[0]?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], at(0));
      assert.equal(jobs[0]?.metadata.ownerReferences?.[0]?.kind, 'CronJob');
      assert.equal(cj?.status?.lastScheduleTime, at(0));
      assert.equal(((cj?.status?.active ?? []) as unknown[]).length, 1);
    },
  },
  {
    name: 'nothing due: no job, wait for the next time',
    objects: [C(cronJob({}, { lastScheduleTime: at(0) }))],
    want: [],
    requeued: true,
  },
  {
    name: 'Forbid skips while a job runs',
    objects: [C(cronJob({ concurrencyPolicy: 'Forbid' })), J(job('hello-1', 'running'))],
    want: ['update cronjobs/status hello'],
    requeued: true,
    check: (cj) => assert.equal(cj?.status?.lastScheduleTime, at(-3600)),
  },
  {
    name: 'Replace deletes the running job and starts a new one',
    objects: [C(cronJob({ concurrencyPolicy: 'Replace' })), J(job('hello-1', 'running'))],
    want: ['delete jobs hello-1', 'create jobs', 'update cronjobs/status hello'],
    requeued: true,
  },
  {
    name: 'Allow starts another while one runs',
    objects: [C(cronJob()), J(job('hello-1', 'running'))],
    want: ['create jobs', 'update cronjobs/status hello'],
    requeued: true,
    check: (cj) => assert.equal(((cj?.status?.active ?? []) as unknown[]).length, 2),
  },
  {
    name: 'a time missed by more than startingDeadlineSeconds is skipped',
    objects: [C(cronJob({ startingDeadlineSeconds: 10 }))],
    advance: 30,
    want: [],
    requeued: true,
  },
  {
    name: 'suspended: nothing starts',
    objects: [C(cronJob({ suspend: true }))],
    want: [],
  },
  {
    name: 'finished jobs are trimmed to the history limits, oldest first',
    objects: [
      C(cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }, { lastScheduleTime: at(0) })),
      J(job('ok-old', 'Complete', 300)),
      J(job('ok-new', 'Complete', 100)),
      J(job('bad-old', 'Failed', 400)),
      J(job('bad-new', 'Failed', 200)),
    ],
    want: ['delete jobs ok-old', 'delete jobs bad-old', 'update cronjobs/status hello'],
    requeued: true,
    check: (cj) => assert.equal(cj?.status?.lastSuccessfulTime, at(-95)),
  },
  {
    name: 'an unparseable schedule starts nothing and is not retried',
    objects: [C(cronJob({ schedule: 'every minute' }))],
    want: ['create events'],
  },
  {
    name: 'timeZone: 19:00 in New York is midnight UTC',
    objects: [C(cronJob({ schedule: '0 19 * * *', timeZone: 'America/New_York' }))],
    want: ['create jobs', 'update cronjobs/status hello'],
    requeued: true,
  },
];

for (const tc of cases) {
  test(`cronjob: ${tc.name}`, async () => {
    const c = await fakeCluster(newCronJobController, tc.objects);
    try {
      while (c.controller.queue.length > 0) {
        const k = await c.controller.queue.get();
        if (k) c.controller.queue.done(k);
      }
      if (tc.advance) await c.clock.advance(tc.advance * 1000);
      await c.controller.reconcile('default/hello');
      const log = writeLog(c.client).filter(
        (w) => w !== 'create events' || tc.want.includes('create events'),
      );
      assert.deepEqual(log.sort(), [...tc.want].sort());
      assert.equal(c.clock.pending > 0, tc.requeued ?? false, 'requeued');
      const jobs = (await c.client.list<Job>(resources.jobs, { namespace: 'default' })).items.filter(
        (j) =>
          !j.metadata.name?.startsWith('ok-') &&
          !j.metadata.name?.startsWith('bad-') &&
          j.metadata.name !== 'hello-1',
      );
      tc.check?.(c.client.peek(resources.cronJobs, 'default/hello'), jobs);
    } finally {
      await c.stop();
    }
  });
}
