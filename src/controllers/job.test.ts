import assert from 'node:assert/strict';
import test from 'node:test';
import type { Condition, Job, KubeObject, Pod, Resource } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';
import { newJobController } from './job.ts';

const labels = { 'job-name': 'pi' };
const at = (s: number) => new Date(start + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function job(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): Job {
  return {
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'c' }] } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}
function pod(name: string, phase: string, o: { index?: number; finished?: number } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      labels,
      creationTimestamp: at(o.finished ?? -1000),
      ...(o.index !== undefined
        ? { annotations: { 'batch.kubernetes.io/job-completion-index': String(o.index) } }
        : {}),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true },
      ],
    },
    spec: { containers: [{ name: 'c' }] },
    status: { phase: phase as 'Running' },
  };
}
const J = (j: KubeObject): [Resource, KubeObject] => [resources.jobs, j];
const P = (p: KubeObject): [Resource, KubeObject] => [resources.pods, p];
const condOf = (j: Job | undefined, type: string) =>
  ((j?.status?.conditions ?? []) as Condition[]).find((c) => c.type === type);

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  requeued?: boolean;
  check?: (j: Job | undefined, pods: Pod[]) => void;
}

const cases: Case[] = [
  {
    name: 'starts parallelism pods and records startTime',
    objects: [J(job({ parallelism: 2, completions: 3 }))],
    want: ['create pods', 'create pods', 'update jobs/status pi'],
    check: (j, pods) => {
      assert.equal(pods.length, 2);
      assert.equal(j?.status?.startTime, at(0));
    },
  },
  {
    name: 'creates only what completions still need',
    objects: [
      J(job({ parallelism: 3, completions: 3 })),
      P(pod('a', 'Succeeded')),
      P(pod('b', 'Succeeded')),
      P(pod('c', 'Running')),
    ],
    want: ['update jobs/status pi'],
    check: (j) => assert.deepEqual([j?.status?.active, j?.status?.succeeded], [1, 2]),
  },
  {
    name: 'completes when completions pods succeeded',
    objects: [J(job({ completions: 2 })), P(pod('a', 'Succeeded')), P(pod('b', 'Succeeded'))],
    want: ['update jobs/status pi'],
    check: (j) => {
      assert.equal(condOf(j, 'Complete')?.status, 'True');
      assert.equal(j?.status?.completionTime, at(0));
      assert.equal(j?.status?.succeeded, 2);
    },
  },
  {
    name: 'fails after more than backoffLimit failed pods, deleting the active one',
    objects: [
      J(job({ backoffLimit: 1 })),
      P(pod('a', 'Failed')),
      P(pod('b', 'Failed')),
      P(pod('c', 'Running')),
    ],
    want: ['delete pods c', 'update jobs/status pi'],
    check: (j) => assert.equal(condOf(j, 'Failed')?.reason, 'BackoffLimitExceeded'),
  },
  {
    name: 'OnFailure: container restarts count against backoffLimit',
    objects: [
      J(
        job({
          backoffLimit: 2,
          template: {
            metadata: { labels },
            spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c' }] },
          },
        }),
      ),
      P({
        ...pod('a', 'Running'),
        status: { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 2 }] },
      }),
    ],
    want: ['delete pods a', 'update jobs/status pi'],
    check: (j) => assert.equal(condOf(j, 'Failed')?.reason, 'BackoffLimitExceeded'),
  },
  {
    name: 'waits out the failure back-off before creating again',
    objects: [J(job()), P(pod('a', 'Failed', { finished: -3 }))],
    want: ['update jobs/status pi'],
    requeued: true,
  },
  {
    name: 're-creates a failed pod once the back-off has passed',
    objects: [J(job()), P(pod('a', 'Failed', { finished: -30 }))],
    want: ['create pods', 'update jobs/status pi'],
  },
  {
    name: 'fails when activeDeadlineSeconds has passed',
    objects: [
      J(job({ activeDeadlineSeconds: 60 }, { startTime: at(-100), active: 1 })),
      P(pod('a', 'Running')),
    ],
    want: ['delete pods a', 'update jobs/status pi'],
    check: (j) => assert.equal(condOf(j, 'Failed')?.reason, 'DeadlineExceeded'),
  },
  {
    name: 'Indexed: one pod per missing index, with its index',
    objects: [
      J(job({ completionMode: 'Indexed', completions: 3, parallelism: 3 })),
      P(pod('a', 'Succeeded', { index: 0 })),
    ],
    want: ['create pods', 'create pods', 'update jobs/status pi'],
    check: (j, pods) => {
      const idx = pods
        .map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'])
        .sort();
      assert.deepEqual(idx, ['0', '1', '2']);
      const p1 = pods.find((p) => p.metadata.generateName === 'pi-1-');
      assert.equal(p1?.spec?.hostname, 'pi-1');
      assert.deepEqual(p1?.spec?.containers[0]?.env, [{ name: 'JOB_COMPLETION_INDEX', value: '1' }]);
      assert.equal(j?.status?.completedIndexes, '0');
    },
  },
  {
    name: 'suspend deletes active pods and sets Suspended',
    objects: [J(job({ suspend: true }, { startTime: at(-10), active: 1 })), P(pod('a', 'Running'))],
    want: ['delete pods a', 'update jobs/status pi'],
    check: (j) => assert.equal(condOf(j, 'Suspended')?.status, 'True'),
  },
  {
    name: 'work queue (no completions): complete once one succeeded and none is active',
    objects: [J(job({ completions: null, parallelism: 2 })), P(pod('a', 'Succeeded')), P(pod('b', 'Failed'))],
    want: ['update jobs/status pi'],
    check: (j) => assert.equal(condOf(j, 'Complete')?.status, 'True'),
  },
  {
    name: 'a finished job past ttlSecondsAfterFinished is deleted',
    objects: [
      J(
        job(
          { ttlSecondsAfterFinished: 60 },
          { completionTime: at(-100), conditions: [{ type: 'Complete', status: 'True' }] },
        ),
      ),
    ],
    want: ['delete jobs pi'],
  },
  {
    name: 'a finished job within its TTL is looked at again later',
    objects: [
      J(
        job(
          { ttlSecondsAfterFinished: 600 },
          { completionTime: at(-100), conditions: [{ type: 'Complete', status: 'True' }] },
        ),
      ),
    ],
    want: [],
    requeued: true,
  },
];

for (const tc of cases) {
  test(`job: ${tc.name}`, async () => {
    const c = await fakeCluster(newJobController, tc.objects);
    try {
      while (c.controller.queue.length > 0) {
        const k = await c.controller.queue.get();
        if (k) c.controller.queue.done(k);
      }
      await c.controller.reconcile('default/pi');
      assert.deepEqual(
        writeLog(c.client)
          .filter((w) => !w.includes('events'))
          .sort(),
        [...tc.want].sort(),
      );
      assert.equal(c.clock.pending > 0, tc.requeued ?? false, 'requeued');
      const pods = (await c.client.list<Pod>(resources.pods, { namespace: 'default' })).items;
      tc.check?.(c.client.peek<Job>(resources.jobs, 'default/pi'), pods);
    } finally {
      await c.stop();
    }
  });
}
