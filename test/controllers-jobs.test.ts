import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  HttpClient,
  Informer,
  InformerFactory,
  type Job,
  loadKubeconfig,
  type Pod,
  resources,
} from '../src/client/index.ts';
import { scheduledTimestampAnnotation } from '../src/controllers/cronjob.ts';
import { type ControllerManager, startControllerManager } from '../src/controllers/manager.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

const ns = 'drv-ctl-jobs';
let server: TestServer;
let client: HttpClient;
let informers: InformerFactory;
let manager: ControllerManager;
let kubelet: Informer<Pod>;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function kubectl(args: string[], stdin?: string): Promise<string> {
  const r = await server.kubectl(args, { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Stands in for the node agent: a new pod runs to completion at once, Failed
 * when labelled `outcome=fail`, Succeeded otherwise.
 */
function startFakeKubelet(): Informer<Pod> {
  const inf = new Informer<Pod>(client, resources.pods, { namespace: ns });
  inf.addHandler({
    onAdd: (p) => {
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || p.metadata.deletionTimestamp)
        return;
      const phase = p.metadata.labels?.outcome === 'fail' ? 'Failed' : 'Succeeded';
      client
        .patch(
          resources.pods,
          p.metadata.name ?? '',
          'merge',
          { status: { phase } },
          { namespace: ns, subresource: 'status' },
        )
        .catch(() => {});
    },
  });
  inf.start();
  return inf;
}

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  informers = new InformerFactory(client);
  manager = startControllerManager({ client, informers, log: silentLogger() });
  await kubectl(['create', 'namespace', ns]);
  kubelet = startFakeKubelet();
});

after(async () => {
  await manager?.stop();
  await informers?.stop();
  await kubelet?.stop();
  client?.close();
  await server?.stop();
});

const jobYaml = (name: string, spec: string, labels = '') => `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
  template:
    metadata: {labels: {app: jobs${labels}}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, "true"]}]
`;

test('a Job runs to completion with parallelism (kubectl wait --for=condition=complete)', async () => {
  await kubectl(['apply', '-f', '-'], jobYaml('par', '  parallelism: 2\n  completions: 4'));
  await kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/par', '--timeout=60s']);
  const job = await client.get<Job>(resources.jobs, 'par', { namespace: ns });
  assert.equal(job.status?.succeeded, 4);
  assert.ok(job.status?.completionTime);
  const pods = (await client.list<Pod>(resources.pods, { namespace: ns, labelSelector: 'job-name=par' }))
    .items;
  assert.equal(pods.length, 4);
});

test('an Indexed Job completes every index', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    jobYaml('idx', '  completionMode: Indexed\n  completions: 3\n  parallelism: 3'),
  );
  await kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/idx', '--timeout=60s']);
  const job = await client.get<Job>(resources.jobs, 'idx', { namespace: ns });
  assert.equal(job.status?.completedIndexes, '0-2');
});

test('a Job whose pods fail stops at backoffLimit with BackoffLimitExceeded', async () => {
  await kubectl(['apply', '-f', '-'], jobYaml('bad', '  backoffLimit: 0', ', outcome: fail'));
  await kubectl(['-n', ns, 'wait', '--for=condition=failed', 'job/bad', '--timeout=60s']);
  const job = await client.get<Job>(resources.jobs, 'bad', { namespace: ns });
  const failed = ((job.status?.conditions ?? []) as { type: string; reason?: string }[]).find(
    (c) => c.type === 'Failed',
  );
  assert.equal(failed?.reason, 'BackoffLimitExceeded');
});

test('ttlSecondsAfterFinished: 0 removes a finished Job and its pods', async () => {
  await kubectl(['apply', '-f', '-'], jobYaml('ttl', '  ttlSecondsAfterFinished: 0'));
  await until(
    async () =>
      (await client.list(resources.jobs, { namespace: ns, fieldSelector: 'metadata.name=ttl' })).items
        .length === 0,
    'ttl job deleted',
  );
  await until(
    async () =>
      (await client.list(resources.pods, { namespace: ns, labelSelector: 'job-name=ttl' })).items.length ===
      0,
    'ttl pods collected',
  );
});

// The fake kubelet finishes the Job's pod at once, so status.active may hold the
// Job only for an instant: the test waits for what stays (lastScheduleTime, then
// lastSuccessfulTime) instead of catching `active` (it used to, and flaked).
test('a CronJob starts a Job for its missed time', async () => {
  await kubectl([
    '-n',
    ns,
    'create',
    'cronjob',
    'tick',
    '--image=busybox',
    '--schedule=*/1 * * * *',
    '--',
    'true',
  ]);
  // Pretend the last run was an hour ago, so the latest minute is due now instead of within a minute.
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await kubectl([
    '-n',
    ns,
    'patch',
    'cronjob',
    'tick',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { lastScheduleTime: hourAgo } }),
  ]);
  await until(
    async () =>
      (await client.list<Job>(resources.jobs, { namespace: ns })).items.some((j) =>
        j.metadata.name?.startsWith('tick-'),
      ),
    'a tick job',
  );
  const jobs = (await client.list<Job>(resources.jobs, { namespace: ns })).items;
  const tick = jobs.find((j) => j.metadata.name?.startsWith('tick-'));
  assert.equal(tick?.metadata.ownerReferences?.[0]?.kind, 'CronJob');
  const scheduled = tick?.metadata.annotations?.[scheduledTimestampAnnotation] ?? '';
  assert.ok(scheduled > hourAgo, `scheduled ${scheduled} after the patched last run`);
  await until(async () => {
    const cj = await client.get(resources.cronJobs, 'tick', { namespace: ns });
    return String(cj.status?.lastScheduleTime ?? '') >= scheduled;
  }, 'cronjob lastScheduleTime of the new run');
  await kubectl([
    '-n',
    ns,
    'wait',
    '--for=condition=complete',
    `job/${tick?.metadata.name ?? ''}`,
    '--timeout=60s',
  ]);
  await until(async () => {
    const cj = await client.get(resources.cronJobs, 'tick', { namespace: ns });
    return Boolean(cj.status?.lastSuccessfulTime);
  }, 'cronjob lastSuccessfulTime');
});
