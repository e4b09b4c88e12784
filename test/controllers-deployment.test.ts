import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  HttpClient,
  Informer,
  InformerFactory,
  type KubeObject,
  loadKubeconfig,
  type Pod,
  type ReplicaSet,
  resources,
} from '../src/client/index.ts';
import { type ControllerManager, startControllerManager } from '../src/controllers/manager.ts';
import { ConflictError, NotFoundError } from '../src/lib/errors.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

const ns = 'drv-ctl-test';
let server: TestServer;
let client: HttpClient;
let informers: InformerFactory;
let manager: ControllerManager;
let kubelet: Informer<Pod>;
/** Fewest Ready pods seen while `watching` is on (the rolling update's floor). */
let minReady = Number.POSITIVE_INFINITY;
let watching = false;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function kubectl(...args: string[]): Promise<string> {
  const r = await server.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const isReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const livePods = () => kubelet.store.list().filter((p) => !p.metadata.deletionTimestamp);

/**
 * Stands in for the node agent (none runs in this test): every new pod is
 * reported Running and Ready through pods/status.
 */
function startFakeKubelet(): Informer<Pod> {
  const inf = new Informer<Pod>(client, resources.pods, { namespace: ns });
  const markReady = (p: Pod) => {
    if (isReady(p) || p.metadata.deletionTimestamp) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
    };
    client
      .patch(
        resources.pods,
        p.metadata.name ?? '',
        'merge',
        { status },
        { namespace: ns, subresource: 'status' },
      )
      .catch(() => {});
  };
  const count = () => {
    if (watching) minReady = Math.min(minReady, livePods().filter(isReady).length);
  };
  inf.addHandler({
    onAdd: markReady,
    onUpdate: (_, p) => {
      markReady(p);
      count();
    },
    onDelete: count,
  });
  inf.start();
  return inf;
}

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  informers = new InformerFactory(client);
  manager = startControllerManager({ client, informers, log: silentLogger() });
  await kubectl('create', 'namespace', ns);
  kubelet = startFakeKubelet();
});

after(async () => {
  await manager?.stop();
  await informers?.stop();
  await kubelet?.stop();
  client?.close();
  await server?.stop();
});

async function replicaSets(): Promise<ReplicaSet[]> {
  return (await client.list<ReplicaSet>(resources.replicaSets, { namespace: ns })).items;
}
const image = (o: KubeObject | undefined) =>
  (o?.spec?.template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec?.containers?.[0]
    ?.image;

test('kubectl create, scale, set image, rollout status/history/undo against the controllers', async () => {
  await kubectl(
    '-n',
    ns,
    'create',
    'deployment',
    'web',
    '--image=busybox',
    '--',
    'httpd',
    '-f',
    '-p',
    '8080',
  );
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  await kubectl('-n', ns, 'scale', 'deployment/web', '--replicas=5');
  await until(() => livePods().length === 5 && livePods().every(isReady), '5 ready pods');
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');

  // A deleted pod is replaced.
  const victim = livePods()[0]?.metadata.name ?? '';
  await kubectl('-n', ns, 'delete', 'pod', victim);
  await until(
    () => livePods().length === 5 && !livePods().some((p) => p.metadata.name === victim),
    'the deleted pod replaced',
  );

  minReady = Number.POSITIVE_INFINITY;
  watching = true;
  await kubectl('-n', ns, 'set', 'image', 'deployment/web', 'busybox=busybox:1.35');
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  watching = false;
  // 25% of 5: maxUnavailable rounds down to 1.
  assert.ok(minReady >= 4, `ready pods dropped to ${minReady} during the rollout`);
  await until(() => livePods().length === 5, 'old pods gone');
  assert.ok(livePods().every((p) => p.spec?.containers[0]?.image === 'busybox:1.35'));
  assert.equal((await replicaSets()).length, 2);
  const history = await kubectl('-n', ns, 'rollout', 'history', 'deployment/web');
  assert.match(history, /^1\s/m);
  assert.match(history, /^2\s/m);

  await kubectl('-n', ns, 'rollout', 'undo', 'deployment/web');
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  const d = await client.get(resources.deployments, 'web', { namespace: ns });
  assert.equal(image(d), 'busybox');
  const rss = await replicaSets();
  assert.equal(rss.length, 2, 'undo re-uses the old ReplicaSet');
  const first = rss.find((r) => image(r) === 'busybox');
  assert.equal(first?.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  assert.equal(first?.spec?.replicas, 5);
  assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');

  await kubectl('-n', ns, 'rollout', 'undo', 'deployment/web', '--to-revision=2');
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.equal(image(await client.get(resources.deployments, 'web', { namespace: ns })), 'busybox:1.35');
  await until(
    () => livePods().length === 5 && livePods().every((p) => p.spec?.containers[0]?.image === 'busybox:1.35'),
    'pods back on 1.35',
  );

  await kubectl('-n', ns, 'rollout', 'restart', 'deployment/web');
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.equal((await replicaSets()).length, 3);
  const status = (await client.get(resources.deployments, 'web', { namespace: ns })).status ?? {};
  assert.equal(
    status.observedGeneration,
    (await client.get(resources.deployments, 'web', { namespace: ns })).metadata.generation,
  );
  assert.deepEqual([status.replicas, status.updatedReplicas, status.availableReplicas], [5, 5, 5]);
});

test('rollout pause holds a template change until rollout resume', async () => {
  await kubectl('-n', ns, 'rollout', 'pause', 'deployment/web');
  await kubectl('-n', ns, 'set', 'image', 'deployment/web', 'busybox=busybox:1.36');
  await until(async () => {
    const d = await client.get(resources.deployments, 'web', { namespace: ns });
    const progressing = ((d.status?.conditions ?? []) as { type: string; reason?: string }[]).find(
      (c) => c.type === 'Progressing',
    );
    return (
      progressing?.reason === 'DeploymentPaused' && d.status?.observedGeneration === d.metadata.generation
    );
  }, 'DeploymentPaused');
  assert.equal((await replicaSets()).length, 3, 'no new ReplicaSet while paused');
  await kubectl('-n', ns, 'rollout', 'resume', 'deployment/web');
  await kubectl('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  await until(
    () => livePods().length === 5 && livePods().every((p) => p.spec?.containers[0]?.image === 'busybox:1.36'),
    'pods on 1.36',
  );
});

test('bad input: undo to a revision that does not exist, an invalid cron schedule', async () => {
  const undo = await server.kubectl(['-n', ns, 'rollout', 'undo', 'deployment/web', '--to-revision=99']);
  assert.notEqual(undo.code, 0);
  assert.match(undo.stderr, /unable to find specified revision 99 in history/);
  const cron = await server.kubectl([
    '-n',
    ns,
    'create',
    'cronjob',
    'bad-schedule',
    '--image=busybox',
    '--schedule=61 * * * *',
    '--',
    'true',
  ]);
  assert.notEqual(cron.code, 0);
  assert.match(cron.stderr, /is invalid: spec\.schedule: Invalid value: "61 \* \* \* \*"/);
});

test('deleting the deployment removes its ReplicaSets and pods (garbage collector)', async () => {
  await kubectl('-n', ns, 'delete', 'deployment', 'web');
  await until(async () => (await replicaSets()).length === 0, 'replicasets collected');
  await until(
    async () => (await client.list(resources.pods, { namespace: ns })).items.length === 0,
    'pods collected',
  );
});

test('foreground deletion: dependents first, then the owner', async () => {
  await kubectl('-n', ns, 'create', 'deployment', 'fg', '--image=busybox', '--replicas=2');
  await until(() => livePods().length === 2, 'fg pods');
  // The server does not turn propagationPolicy=Foreground into the finalizer yet: set it as a client may.
  // (A merge patch can meet a 409 while the controllers write: the server does not retry it, so the test does.)
  await until(
    () =>
      client
        .patch(
          resources.deployments,
          'fg',
          'merge',
          { metadata: { finalizers: ['foregroundDeletion'] } },
          { namespace: ns },
        )
        .then(() => true)
        .catch((err: unknown) => {
          if (err instanceof ConflictError) return false;
          throw err;
        }),
    'finalizer patched',
  );
  await client.delete(resources.deployments, 'fg', { namespace: ns });
  await until(async () => {
    try {
      await client.get(resources.deployments, 'fg', { namespace: ns });
      return false;
    } catch (err) {
      if (err instanceof NotFoundError) return true;
      throw err;
    }
  }, 'fg deployment gone after its dependents');
  assert.equal((await replicaSets()).length, 0);
});

test('a deleted namespace is emptied and removed', async () => {
  await kubectl('-n', ns, 'create', 'configmap', 'c', '--from-literal=a=b');
  await kubectl('-n', ns, 'create', 'deployment', 'last', '--image=busybox');
  await until(() => livePods().length === 1, 'a pod in the namespace');
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await until(async () => (await server.kubectl(['get', 'namespace', ns])).code !== 0, 'namespace removed');
});
