import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HollowNodes } from '../src/agent/hollow/hollow-nodes.ts';
import {
  type Event,
  HttpClient,
  InformerFactory,
  loadKubeconfig,
  type Node,
  type Pod,
  resources,
} from '../src/client/index.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { type RunningScheduler, startScheduler } from '../src/scheduler/index.ts';
import type { SchedulingSpec } from '../src/scheduler/types.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

// drover server (real, --no-agent) + the scheduler in-process over HTTPS + 3 hollow nodes in-process.
const ns = 'drv-sched-test';
const prefix = 'drv-sched-node-';
let server: TestServer;
let client: HttpClient;
let informers: InformerFactory;
let hollow: HollowNodes;
let scheduler: RunningScheduler;
const abort = new AbortController();

async function until<T>(get: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const getPod = (name: string) => client.get<Pod>(resources.pods, name, { namespace: ns });

function makePod(
  name: string,
  o: { cpu?: string; labels?: Record<string, string>; spec?: Partial<SchedulingSpec>; owner?: string } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: ns,
      labels: o.labels,
      ownerReferences: o.owner
        ? [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: o.owner,
              uid: `00000000-0000-0000-0000-${o.owner.padStart(12, '0')}`,
              controller: true,
            },
          ]
        : undefined,
    },
    spec: {
      containers: [
        { name: 'c', image: 'busybox', resources: { requests: { cpu: o.cpu ?? '100m', memory: '64Mi' } } },
      ],
      ...o.spec,
    },
  };
}

async function boundNode(name: string): Promise<string> {
  return until(async () => (await getPod(name)).spec?.nodeName, `${name} bound`);
}

async function failedEvent(name: string): Promise<string> {
  return until(async () => {
    const evs = await client.list<Event>(resources.events, { namespace: ns });
    return evs.items.find((e) => e.involvedObject.name === name && e.reason === 'FailedScheduling')?.message;
  }, `FailedScheduling for ${name}`);
}

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  await client.create(resources.namespaces, { metadata: { name: ns } });
  informers = new InformerFactory(client, { log: silentLogger() });
  hollow = new HollowNodes({
    client,
    informers,
    log: silentLogger(),
    count: 3,
    prefix,
    capacity: { cpu: '2', memory: '4Gi' },
  });
  scheduler = startScheduler({ client, informers, log: silentLogger() });
  informers.start(abort.signal);
  await hollow.start();
});

after(async () => {
  await scheduler?.stop();
  await hollow?.stop();
  abort.abort();
  await informers?.stop();
  client?.close();
  await server?.stop();
});

test('hollow nodes register Ready with a node lease', async () => {
  const nodes = await client.list<Node>(resources.nodes);
  const ours = nodes.items.filter((n) => n.metadata.name?.startsWith(prefix));
  assert.equal(ours.length, 3);
  for (const n of ours) {
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n.status?.allocatable?.cpu, '2');
    await client.get(resources.leases, n.metadata.name ?? '', { namespace: 'kube-node-lease' });
  }
});

test('replicas of one owner are bound, spread evenly and reported Running', async () => {
  const names = [1, 2, 3, 4, 5, 6].map((i) => `web-${i}`);
  for (const n of names)
    await client.create(resources.pods, makePod(n, { owner: '1', labels: { app: 'web' } }));
  const per = new Map<string, number>();
  for (const n of names) {
    const node = await boundNode(n);
    per.set(node, (per.get(node) ?? 0) + 1);
  }
  assert.deepEqual([...per.values()], [2, 2, 2], `spread: ${JSON.stringify([...per])}`);
  const p = await until(async () => {
    const x = await getPod('web-1');
    return x.status?.phase === 'Running' ? x : undefined;
  }, 'web-1 Running');
  assert.match(p.status?.podIP ?? '', /^100\.6\d\./);
  assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
});

test('a pod with impossible requests stays Pending with the FailedScheduling event', async () => {
  await client.create(resources.pods, makePod('huge', { cpu: '64' }));
  const msg = await failedEvent('huge');
  assert.equal(
    msg,
    '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
  );
  const p = await until(async () => {
    const x = await getPod('huge');
    return x.status?.conditions?.some((c) => c.type === 'PodScheduled') ? x : undefined;
  }, 'PodScheduled condition');
  const cond = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  assert.equal(cond?.status, 'False');
  assert.equal(cond?.reason, 'Unschedulable');
  assert.equal(p.spec?.nodeName, undefined);
  assert.equal(p.status?.phase, 'Pending');
});

test('taints and tolerations, nodeSelector', async () => {
  const tainted = `${prefix}0`;
  const labelled = `${prefix}1`;
  await client.patch(resources.nodes, tainted, 'merge', {
    spec: { taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] },
  });
  await client.patch(resources.nodes, labelled, 'merge', { metadata: { labels: { disk: 'ssd' } } });
  const onTainted = { 'kubernetes.io/hostname': tainted };
  await client.create(resources.pods, makePod('intolerant', { spec: { nodeSelector: onTainted } }));
  assert.equal(
    await failedEvent('intolerant'),
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 node(s) didn't match Pod's node affinity/selector. " +
      'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  );
  await client.create(
    resources.pods,
    makePod('tolerant', {
      spec: {
        nodeSelector: onTainted,
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
      },
    }),
  );
  assert.equal(await boundNode('tolerant'), tainted);
  await client.create(resources.pods, makePod('ssd', { spec: { nodeSelector: { disk: 'ssd' } } }));
  assert.equal(await boundNode('ssd'), labelled);
  for (let i = 0; i < 4; i++) await client.create(resources.pods, makePod(`plain-${i}`));
  for (let i = 0; i < 4; i++)
    assert.notEqual(await boundNode(`plain-${i}`), tainted, 'untolerating pods avoid the tainted node');
});

test('required pod anti-affinity keeps replicas on different nodes', async () => {
  const anti = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
  // Tolerate the taint from the previous test so all three nodes are candidates.
  const tolerations = [{ key: 'dedicated', operator: 'Exists' as const }];
  for (let i = 0; i < 4; i++)
    await client.create(
      resources.pods,
      makePod(`db-${i}`, { labels: { app: 'db' }, spec: { affinity: anti, tolerations } }),
    );
  const nodes = new Set<string>();
  for (let i = 0; i < 3; i++) nodes.add(await boundNode(`db-${i}`));
  // The 4th goes wherever the first three are not; with three nodes, nowhere.
  const msg = await failedEvent('db-3');
  assert.equal(nodes.size, 3);
  // Existing pods' anti-affinity is checked first, as upstream, and it is symmetric here.
  assert.match(
    msg,
    /^0\/3 nodes are available: 3 node\(s\) didn't satisfy existing pods anti-affinity rules\./,
  );
  assert.equal((await getPod('db-3')).spec?.nodeName, undefined);
});

test('a PriorityClass pod preempts a lower-priority pod and is bound to the nominated node', async () => {
  const target = `${prefix}2`;
  await client.create(resources.priorityClasses, {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'drv-sched-high' },
    value: 1000,
  } as never);
  const onTarget = { nodeSelector: { 'kubernetes.io/hostname': target } };
  await client.create(resources.pods, makePod('filler', { cpu: '1200m', spec: onTarget }));
  assert.equal(await boundNode('filler'), target);
  await client.create(
    resources.pods,
    makePod('important', { cpu: '1', spec: { ...onTarget, priorityClassName: 'drv-sched-high' } }),
  );
  assert.equal(await boundNode('important'), target);
  await until(async () => {
    const left = await client.list<Pod>(resources.pods, {
      namespace: ns,
      fieldSelector: 'metadata.name=filler',
    });
    return left.items.length === 0 ? true : undefined;
  }, 'filler preempted');
  const evs = await client.list<Event>(resources.events, { namespace: ns });
  assert.ok(evs.items.some((e) => e.involvedObject.name === 'filler' && e.reason === 'Preempted'));
});

// Last: it adds nodes the earlier tests' "0/3 nodes" messages do not expect.
test('`drover agent --hollow` registers nodes from the command line and exits cleanly on SIGTERM', async () => {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const bin = path.join(import.meta.dirname, '..', 'bin', 'drover');
  const child = spawn(
    bin,
    [
      'agent',
      '--hollow',
      '--count',
      '2',
      '--name-prefix',
      'drv-sched-cli-',
      '--server-kubeconfig',
      server.kubeconfig,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await until(async () => {
      const nodes = await client.list<Node>(resources.nodes);
      const ready = nodes.items.filter(
        (n) =>
          n.metadata.name?.startsWith('drv-sched-cli-') &&
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === 2 ? true : undefined;
    }, `CLI hollow nodes Ready (${stderr})`);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
});
