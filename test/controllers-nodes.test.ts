import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HollowNodes } from '../src/agent/hollow/hollow-nodes.ts';
import {
  type DaemonSet,
  HttpClient,
  InformerFactory,
  type KubeObject,
  loadKubeconfig,
  type Node,
  type Pod,
  resources,
  statusOf,
} from '../src/client/index.ts';
import { type ControllerManager, startControllerManager } from '../src/controllers/manager.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { type RunningScheduler, startScheduler } from '../src/scheduler/index.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

// A real `drover server` (API only) + scheduler and controller manager in-process over HTTPS
// + 3 hollow nodes in two groups: group "b" (one node) is stopped to play a lost node.
const ns = 'drv-nodes-test';
const prefixA = 'drv-nodes-a-';
const prefixB = 'drv-nodes-b-';
const lost = `${prefixB}0`;
const cordoned = `${prefixA}0`;
let server: TestServer;
let client: HttpClient;
let informers: InformerFactory;
let groupA: HollowNodes;
let groupB: HollowNodes;
let scheduler: RunningScheduler;
let manager: ControllerManager;
const abort = new AbortController();

async function until<T>(get: () => Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function kubectl(...args: string[]): Promise<string> {
  const r = await server.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const pods = async (app: string) =>
  (await client.list<Pod>(resources.pods, { namespace: ns, labelSelector: `app=${app}` })).items;
const isReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const live = (p: Pod) => !p.metadata.deletionTimestamp;

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
      },
    },
  });
}

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  await client.create(resources.namespaces, { metadata: { name: ns } });
  informers = new InformerFactory(client, { log: silentLogger() });
  const hollow = (prefix: string, count: number) =>
    new HollowNodes({ client, informers, log: silentLogger(), count, prefix, leaseRenewMs: 500 });
  groupA = hollow(prefixA, 2);
  groupB = hollow(prefixB, 1);
  scheduler = startScheduler({ client, informers, log: silentLogger() });
  manager = startControllerManager({
    client,
    informers,
    log: silentLogger(),
    config: { nodeLifecycle: { gracePeriodMs: 4000 } },
  });
  informers.start(abort.signal);
  await groupA.start();
  await groupB.start();
});

after(async () => {
  await manager?.stop();
  await scheduler?.stop();
  await groupA?.stop();
  await groupB?.stop();
  abort.abort();
  await informers?.stop();
  client?.close();
  await server?.stop();
});

test('a DaemonSet has one pod per node, rolls out a new template and rolls back', async () => {
  const ds = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: ns },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
      },
    },
  };
  const r = await server.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(ds) });
  assert.equal(r.code, 0, r.stderr);
  await kubectl('rollout', 'status', 'daemonset/agent', '-n', ns, '--timeout=30s');
  const nodes = (await pods('agent')).map((p) => p.spec?.nodeName).sort();
  assert.deepEqual(nodes, [`${prefixA}0`, `${prefixA}1`, lost]);
  const got = await client.get<DaemonSet>(resources.daemonSets, 'agent', { namespace: ns });
  assert.equal(got.status?.desiredNumberScheduled, 3);
  assert.equal(got.status?.numberReady, 3);

  await kubectl('set', 'image', 'daemonset/agent', 'c=busybox:2', '-n', ns);
  await kubectl('rollout', 'status', 'daemonset/agent', '-n', ns, '--timeout=30s');
  const after = (await pods('agent')).filter(live);
  assert.equal(after.length, 3);
  assert.ok(after.every((p) => p.spec?.containers[0]?.image === 'busybox:2'));
  const history = await kubectl('rollout', 'history', 'daemonset/agent', '-n', ns);
  assert.match(history, /^1\s/m);
  assert.match(history, /^2\s/m);

  await kubectl('rollout', 'undo', 'daemonset/agent', '-n', ns);
  await kubectl('rollout', 'status', 'daemonset/agent', '-n', ns, '--timeout=30s');
  const undone = (await pods('agent')).filter(live);
  assert.ok(undone.every((p) => p.spec?.containers[0]?.image === 'busybox:1'));
  // The undone revision is renumbered past the latest, as upstream does.
  assert.match(await kubectl('rollout', 'history', 'daemonset/agent', '-n', ns), /^2\s[\s\S]*^3\s/m);
});

test('a lost node goes NotReady with the unreachable taint; its pods are recreated elsewhere', async () => {
  const tolerate = {
    tolerations: [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 2,
      },
    ],
  };
  const r = await server.kubectl(['apply', '-f', '-'], { stdin: deployment('web', 3, tolerate) });
  assert.equal(r.code, 0, r.stderr);
  const placed = await until(async () => {
    const ps = (await pods('web')).filter(live);
    return ps.length === 3 && ps.every(isReady) ? ps : undefined;
  }, 'web ready');
  const victims = placed.filter((p) => p.spec?.nodeName === lost).map((p) => p.metadata.name);
  assert.ok(victims.length > 0, 'a web pod runs on the node to be lost');
  // Defaulted by the DefaultTolerationSeconds admission; the pod's own unreachable toleration is kept.
  const tols = placed[0]?.spec?.tolerations ?? [];
  assert.ok(tols.some((t) => t.key === 'node.kubernetes.io/not-ready' && t.tolerationSeconds === 300));
  assert.ok(tols.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 2));

  const stoppedAt = Date.now();
  await groupB.stop();
  const node = await until(async () => {
    const n = await client.get<Node>(resources.nodes, lost);
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    const tainted = n.spec?.taints?.some(
      (t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
    );
    return ready?.status === 'Unknown' && tainted ? n : undefined;
  }, 'lost node NotReady and tainted');
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.reason, 'NodeStatusUnknown');
  assert.equal(ready?.message, 'Kubelet stopped posting node status.');
  const notReadyMs = Date.now() - stoppedAt;
  const get = await kubectl('get', 'node', lost);
  assert.match(get, /NotReady/);

  await until(async () => {
    const ps = (await pods('web')).filter(live);
    return ps.length === 3 && ps.every((p) => isReady(p) && p.spec?.nodeName !== lost);
  }, 'web pods recreated on other nodes');
  const recreatedMs = Date.now() - stoppedAt;
  const evicted = (await pods('web')).filter((p) => victims.includes(p.metadata.name));
  assert.ok(
    evicted.every((p) => p.metadata.deletionTimestamp),
    'the lost pods are being deleted',
  );
  assert.ok(
    evicted.every((p) => p.status?.conditions?.some((c) => c.type === 'DisruptionTarget')),
    'evicted pods carry DisruptionTarget',
  );
  // The DaemonSet pod tolerates the taint and stays, marked not Ready.
  const daemon = (await pods('agent')).find((p) => p.spec?.nodeName === lost && live(p));
  assert.ok(daemon, 'the daemon pod stays on the lost node');
  assert.equal(daemon.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  console.log(`# lost node: NotReady after ${notReadyMs} ms, pods recreated after ${recreatedMs} ms`);
});

test('cordon and drain: eviction waits for the PodDisruptionBudget, then proceeds', async () => {
  await kubectl('cordon', cordoned);
  await until(async () => {
    const n = await client.get<Node>(resources.nodes, cordoned);
    return n.spec?.unschedulable && n.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable');
  }, 'cordoned node tainted');
  await kubectl('uncordon', cordoned);
  await until(async () => {
    const n = await client.get<Node>(resources.nodes, cordoned);
    return (
      !n.spec?.unschedulable && !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable')
    );
  }, 'uncordoned node untainted');

  let r = await server.kubectl(['apply', '-f', '-'], { stdin: deployment('guarded', 2) });
  assert.equal(r.code, 0, r.stderr);
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'guard', namespace: ns },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } },
  };
  r = await server.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(pdb) });
  assert.equal(r.code, 0, r.stderr);
  await until(async () => {
    const ps = (await pods('guarded')).filter(live);
    return ps.length === 2 && ps.every(isReady);
  }, 'guarded ready');
  const budget = await until(async () => {
    const b = await client.get<KubeObject>(resources.podDisruptionBudgets, 'guard', { namespace: ns });
    const s = b.status as Record<string, unknown> | undefined;
    return s?.currentHealthy === 2 && s.observedGeneration === b.metadata.generation ? s : undefined;
  }, 'budget status');
  assert.equal(budget.desiredHealthy, 2);
  assert.equal(budget.disruptionsAllowed, 0);
  assert.equal(budget.expectedPods, 2);

  // Drain the node of one of the guarded pods (the scheduler spreads them over both live nodes).
  const onDrained = (await pods('guarded')).find((p) => live(p));
  assert.ok(onDrained?.spec?.nodeName, 'a guarded pod is bound');
  const drained = onDrained.spec.nodeName;
  const remaining = drained === `${prefixA}0` ? `${prefixA}1` : `${prefixA}0`;
  const err = await client
    .createSubresource(resources.pods, onDrained.metadata.name ?? '', 'eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: onDrained.metadata.name, namespace: ns },
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  const status = statusOf(err);
  assert.equal(status?.code, 429);
  assert.equal(status?.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  assert.deepEqual(status?.details?.causes, [
    {
      reason: 'DisruptionBudget',
      message: 'The disruption budget guard needs 2 healthy pods and has 2 currently',
    },
  ]);

  const drain = server.kubectl([
    'drain',
    drained,
    '--ignore-daemonsets',
    '--delete-emptydir-data',
    '--timeout=45s',
  ]);
  // Blocked: kubectl retries the eviction every 5 s while the budget allows none.
  await new Promise((res) => setTimeout(res, 1500));
  assert.ok(
    (await pods('guarded')).some((p) => p.metadata.name === onDrained.metadata.name && live(p)),
    'the budget holds the pod',
  );
  r = await server.kubectl([
    'patch',
    'pdb',
    'guard',
    '-n',
    ns,
    '--type=merge',
    '-p',
    '{"spec":{"minAvailable":1}}',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const done = await drain;
  assert.equal(done.code, 0, `kubectl drain: ${done.stderr}`);
  assert.match(done.stderr + done.stdout, /would violate the pod's disruption budget/);
  assert.match(done.stdout, /drained/);
  const left = (await pods('guarded')).filter((p) => p.spec?.nodeName === drained && live(p));
  assert.deepEqual(left, []);
  await until(async () => {
    const ps = (await pods('guarded')).filter(live);
    return ps.length === 2 && ps.every((p) => isReady(p) && p.spec?.nodeName === remaining);
  }, 'guarded pods back on the remaining node');
  await kubectl('uncordon', drained);
});
