import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClient, type Pod, resources } from '../client/index.ts';
import { silentLogger } from '../lib/logger.ts';
import { FakeEngine } from './fake-engine.ts';
import { PodWorker } from './pod-worker.ts';
import type { PodVolumePaths } from './volumes.ts';

const t0 = Date.parse('2026-01-01T00:00:00Z');

function setup(objects: { configMaps?: Record<string, Record<string, string>> } = {}) {
  let now = t0;
  const client = new FakeClient();
  const engine = new FakeEngine();
  engine.now = () => now;
  const hooks: string[] = [];
  const worker = new PodWorker({
    client,
    engine: engine.asEngine(),
    network: {
      setup: async (p: Pod) => {
        hooks.push(`net+ ${p.metadata.uid}`);
        return { netnsPath: `/run/netns/x-${p.metadata.uid}`, podIP: '10.42.0.7' };
      },
      teardown: async (uid: string) => {
        hooks.push(`net- ${uid}`);
      },
    },
    volumes: {
      setup: async (): Promise<PodVolumePaths> => new Map(),
      teardown: async (uid: string) => {
        hooks.push(`vol- ${uid}`);
      },
      mountsFor: () => [],
    },
    source: {
      configMap: async (_ns, name) => objects.configMaps?.[name],
      secret: async () => undefined,
    },
    dns: { clusterDNS: '10.43.0.10', clusterDomain: 'cluster.local' },
    hostIP: () => '192.0.2.1',
    allocatable: () => ({ cpu: '2', memory: '2Gi' }),
    backoff: { baseMs: 10_000, maxMs: 300_000 },
    now: () => now,
    log: silentLogger(),
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { client, engine, worker, hooks, advance };
}

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', ...meta },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }], ...spec },
  };
}

type Status = { restartCount: number; state: { waiting?: { reason: string } } };
const firstStatus = (p: Pod) => ((p.status?.containerStatuses ?? []) as Status[])[0];
const stored = (client: FakeClient) => client.peek<Pod>(resources.pods, 'default/web')!;

test('a new pod: network first, then its container, named and placed in the pod netns; Running is written once', async () => {
  const { client, engine, worker, hooks } = setup();
  client.seed(resources.pods, pod());
  await worker.sync(stored(client));
  assert.deepEqual(hooks, ['net+ u1']);
  assert.deepEqual(engine.calls, ['create k8s_app_web_default_u1_0', 'start k8s_app_web_default_u1_0']);
  const req = engine.byName('k8s_app_web_default_u1_0')!.req;
  assert.equal(req.hostConfig?.NetworkMode, 'ns:/run/netns/x-u1');
  assert.deepEqual(req.hostConfig?.ExtraHosts, ['web:10.42.0.7']);
  assert.deepEqual(req.hostConfig?.DnsSearch, [
    'default.svc.cluster.local',
    'svc.cluster.local',
    'cluster.local',
  ]);
  assert.equal(req.config.Hostname, 'web');
  const p = stored(client);
  assert.equal(p.status?.phase, 'Running');
  assert.equal(p.status?.podIP, '10.42.0.7');
  client.clearActions();
  await worker.sync(stored(client));
  assert.deepEqual(client.writes(), [], 'an unchanged status is not written again');
});

test('a crash restarts at once, the next one after 10 s of back-off', async () => {
  const { client, engine, worker, advance } = setup();
  client.seed(resources.pods, pod());
  await worker.sync(stored(client));
  engine.exit(engine.byName('k8s_app_web_default_u1_0')!.id, 1);
  await worker.sync(stored(client));
  assert.ok(engine.byName('k8s_app_web_default_u1_1'), 'restarted at once');
  engine.exit(engine.byName('k8s_app_web_default_u1_1')!.id, 1);
  const r = await worker.sync(stored(client));
  assert.equal(r.retryAfterMs, 10_000);
  const cs = firstStatus(stored(client));
  assert.equal(cs?.state.waiting?.reason, 'CrashLoopBackOff');
  assert.equal(cs?.restartCount, 1);
  advance(10_000);
  await worker.sync(stored(client));
  assert.ok(engine.byName('k8s_app_web_default_u1_2'));
  assert.equal(engine.byName('k8s_app_web_default_u1_0'), undefined, 'the oldest attempt is pruned');
});

const waitingCases = [
  { name: 'missing image', spec: { containers: [{ name: 'app', image: 'nope' }] }, reason: 'ErrImagePull' },
  {
    name: 'missing image with pull policy Never',
    spec: { containers: [{ name: 'app', image: 'nope', imagePullPolicy: 'Never' }] },
    reason: 'ErrImageNeverPull',
  },
  {
    name: 'missing ConfigMap',
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }],
        },
      ],
    },
    reason: 'CreateContainerConfigError',
  },
];
for (const tc of waitingCases) {
  test(`${tc.name}: no container, waiting ${tc.reason}, retried after back-off`, async () => {
    const { client, engine, worker } = setup();
    client.seed(resources.pods, pod(tc.spec as never));
    const r = await worker.sync(stored(client));
    assert.deepEqual(engine.calls, []);
    assert.equal(r.retryAfterMs, 10_000);
    const p = stored(client);
    assert.equal(p.status?.phase, 'Pending');
    const cs = firstStatus(p);
    assert.equal(cs?.state.waiting?.reason, tc.reason);
  });
}

test('init containers run one at a time, in order, before the app', async () => {
  const { client, engine, worker } = setup();
  client.seed(
    resources.pods,
    pod({
      initContainers: [
        { name: 'one', image: 'busybox' },
        { name: 'two', image: 'busybox' },
      ],
    }),
  );
  await worker.sync(stored(client));
  assert.deepEqual(engine.calls, ['create k8s_one_web_default_u1_0', 'start k8s_one_web_default_u1_0']);
  assert.equal(stored(client).status?.phase, 'Pending');
  engine.exit(engine.byName('k8s_one_web_default_u1_0')!.id, 0);
  await worker.sync(stored(client));
  engine.exit(engine.byName('k8s_two_web_default_u1_0')!.id, 0);
  await worker.sync(stored(client));
  assert.deepEqual(
    engine.calls.filter((c) => c.startsWith('start')),
    ['start k8s_one_web_default_u1_0', 'start k8s_two_web_default_u1_0', 'start k8s_app_web_default_u1_0'],
  );
  assert.equal(stored(client).status?.phase, 'Running');
});

test('a terminating pod: containers stopped with its grace period, hooks torn down, object deleted', async () => {
  const { client, engine, worker, hooks } = setup();
  client.seed(resources.pods, pod({ terminationGracePeriodSeconds: 7 }));
  await worker.sync(stored(client));
  const p = stored(client);
  p.metadata.deletionTimestamp = new Date(t0).toISOString();
  p.metadata.deletionGracePeriodSeconds = 7;
  await worker.sync(p);
  assert.ok(engine.calls.includes('stop k8s_app_web_default_u1_0 7'));
  assert.equal(engine.containers.size, 0);
  assert.deepEqual(hooks, ['net+ u1', 'net- u1', 'vol- u1']);
  assert.equal(stored(client), undefined);
});

test('a pod that finished for good (Never) releases its network', async () => {
  const { client, engine, worker, hooks } = setup();
  client.seed(resources.pods, pod({ restartPolicy: 'Never' }));
  await worker.sync(stored(client));
  engine.exit(engine.byName('k8s_app_web_default_u1_0')!.id, 0);
  await worker.sync(stored(client));
  assert.equal(stored(client).status?.phase, 'Succeeded');
  assert.deepEqual(hooks, ['net+ u1', 'net+ u1', 'net- u1']);
});
