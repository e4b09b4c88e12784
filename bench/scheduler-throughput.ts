// Scheduler throughput, kube-scheduler's scheduler_perf shape: N nodes, M
// pending pods (replicas of M/100 ReplicaSets with CPU and memory requests),
// timed from scheduler start to the last binding.
//   node bench/scheduler-throughput.ts [nodes=1000] [pods=10000] [mode=both|fake|server|server-quiet]
// fake:   nodes and pods in a FakeClient (pure scheduler: informers, queue, plugins, binding calls)
// server: a real `drover server` (SQLite) over HTTPS, 1000 in-process hollow nodes
//         (leases renewing, pods reported Running), the scheduler in-process over HttpClient.
// server-quiet: the same, but the hollow kubelets stop once registered and no "Scheduled"
//         events are written: one API write (the binding) per pod.
// Prints pods/s, the p50/p99 scheduling cycle (one attempt: filter + score + assume) and
// the p99 from queueing to bound, beside kube-scheduler's published figures.
import { HollowNodes } from '../src/agent/hollow/hollow-nodes.ts';
import { nodeObject, nodeStatus } from '../src/agent/hollow/objects.ts';
import {
  type Client,
  FakeClient,
  HttpClient,
  InformerFactory,
  loadKubeconfig,
  type Pod,
  resources,
} from '../src/client/index.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { Scheduler } from '../src/scheduler/index.ts';
import { startServer } from '../test/apiserver-harness.ts';

const nodeCount = Number(process.argv[2] ?? 1000);
const podCount = Number(process.argv[3] ?? 10_000);
const mode = process.argv[4] ?? 'both';
const ns = 'bench';
const capacity = { cpu: '4', memory: '32Gi', pods: 110 };

function makePod(i: number): Pod {
  const rs = Math.floor(i / 100);
  return {
    metadata: {
      name: `pod-${i}`,
      namespace: ns,
      labels: { app: `rs-${rs}` },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `rs-${rs}`,
          uid: `00000000-0000-0000-0000-${String(rs).padStart(12, '0')}`,
          controller: true,
        },
      ],
    },
    spec: {
      containers: [
        { name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      ],
    },
  };
}

interface Result {
  podsPerSec: number;
  totalMs: number;
  cycleP50: number;
  cycleP99: number;
  e2eP99: number;
  /** Most replicas of one ReplicaSet on one node (ideal: ceil(100 / nodes)). */
  maxPerNode: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function measure(client: Client, recordScheduledEvents = true): Promise<Result> {
  const informers = new InformerFactory(client, { log: silentLogger() });
  const cycles: number[] = [];
  const e2e: number[] = [];
  const perNode = new Map<string, number>();
  let allBound!: () => void;
  const done = new Promise<void>((r) => (allBound = r));
  const scheduler = new Scheduler({
    client,
    informers,
    log: silentLogger(),
    recordScheduledEvents,
    onBound(pod, node, latencyMs, cycleMs) {
      const k = `${pod.metadata.labels?.app}/${node}`;
      perNode.set(k, (perNode.get(k) ?? 0) + 1);
      cycles.push(cycleMs);
      e2e.push(latencyMs);
      if (cycles.length === podCount) allBound();
    },
  });
  const abort = new AbortController();
  const start = performance.now();
  const running = scheduler.run(abort.signal);
  informers.start(abort.signal);
  await done;
  const totalMs = performance.now() - start;
  abort.abort();
  await running;
  await informers.stop();
  cycles.sort((a, b) => a - b);
  e2e.sort((a, b) => a - b);
  return {
    podsPerSec: (podCount * 1000) / totalMs,
    totalMs,
    cycleP50: pct(cycles, 50),
    cycleP99: pct(cycles, 99),
    e2eP99: pct(e2e, 99),
    maxPerNode: Math.max(...perNode.values()),
  };
}

async function fake(): Promise<Result> {
  const client = new FakeClient();
  for (let i = 0; i < nodeCount; i++) {
    const n = nodeObject(`hollow-node-${i}`, i);
    client.seed(resources.nodes, { ...n, status: nodeStatus(i, capacity, Date.now()) });
  }
  for (let i = 0; i < podCount; i++) client.seed(resources.pods, makePod(i));
  return measure(client);
}

async function server(quiet: boolean): Promise<Result & { setupMs: number }> {
  const s = await startServer({ datastore: 'sqlite' });
  const client = new HttpClient(await loadKubeconfig(s.kubeconfig), { maxSockets: 64 });
  const hollowInformers = new InformerFactory(client, { log: silentLogger() });
  const hollow = new HollowNodes({
    client,
    informers: hollowInformers,
    log: silentLogger(),
    count: nodeCount,
    capacity,
  });
  const abort = new AbortController();
  try {
    const t0 = performance.now();
    hollowInformers.start(abort.signal);
    await hollow.start();
    if (quiet) await hollow.stop();
    await client.create(resources.namespaces, { metadata: { name: ns } });
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < podCount) await client.create(resources.pods, makePod(next++));
      }),
    );
    const setupMs = performance.now() - t0;
    return { ...(await measure(client, !quiet)), setupMs };
  } finally {
    await hollow.stop();
    abort.abort();
    await hollowInformers.stop();
    client.close();
    await s.stop();
  }
}

function print(label: string, r: Result): void {
  console.log(
    `${label.padEnd(34)} ${r.podsPerSec.toFixed(0).padStart(6)} pods/s   ` +
      `cycle p50 ${r.cycleP50.toFixed(2)} ms, p99 ${r.cycleP99.toFixed(2)} ms   ` +
      `queued→bound p99 ${(r.e2eP99 / 1000).toFixed(2)} s   (${(r.totalMs / 1000).toFixed(2)} s total; ` +
      `at most ${r.maxPerNode} replicas of a ReplicaSet per node)`,
  );
}

console.log(`scheduler throughput: ${nodeCount} nodes, ${podCount} pending pods (100 per ReplicaSet)`);
if (mode === 'both' || mode === 'fake') print('drover, FakeClient', await fake());
if (mode === 'both' || mode.startsWith('server')) {
  const quiet = mode === 'server-quiet';
  const r = await server(quiet);
  print(quiet ? 'drover, drover server, bindings only' : 'drover, drover server + hollow', r);
  console.log(
    `  (setup: ${nodeCount} hollow nodes + ${podCount} pod creates took ${(r.setupMs / 1000).toFixed(1)} s)`,
  );
}
console.log(
  'kube-scheduler (published scheduler_perf, SchedulingBasic 5000 nodes): ~100-370 pods/s; not runnable here (no kube-scheduler binary)',
);
