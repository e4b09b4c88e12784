// A 100-replica busybox Deployment on the real one-node all-in-one cluster
// (`drover server`: API server, scheduler, controllers and this machine's
// agent starting real containers through conmon + crun and CNI):
//   node bench/controllers-deployment-100.ts [replicas=100]
// Prints the time from `kubectl apply` to all replicas Ready, and pod startup
// latency p50/p99 two ways: creationTimestamp → Ready condition (the API's
// second-resolution timestamps, what upstream's pod-startup SLI uses) and
// pod first seen → Ready seen on a watch (milliseconds).
// Peer: none runs on this machine (no kubelet/kube-controller-manager), so
// Kubernetes' published SLO (p99 pod startup <= 5 s, stateless pods, images
// present) is printed beside ours instead.
import { Informer, type Pod, resources } from '../src/client/index.ts';
import { startCluster } from '../test/support/cluster.ts';

const replicas = Number(process.argv[2] ?? 100);
const ns = 'default';
const sloP99Ms = 5000;

const isReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const readyAt = (p: Pod) =>
  Date.parse(String(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? ''));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bench, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: web, image: busybox, command: [httpd, -f, -p, "8080"]}]
`;

const c = await startCluster({ name: 'b100', readyTimeoutMs: 120_000 });
try {
  const seen = new Map<string, number>();
  const bound = new Map<string, number>();
  const ready = new Map<string, number>();
  const pods = new Informer<Pod>(c.client, resources.pods, { namespace: ns, labelSelector: 'app=bench' });
  const note = (p: Pod) => {
    const k = p.metadata.name ?? '';
    if (!seen.has(k)) seen.set(k, performance.now());
    if (p.spec?.nodeName && !bound.has(k)) bound.set(k, performance.now());
    if (isReady(p) && !ready.has(k)) ready.set(k, performance.now());
  };
  pods.addHandler({ onAdd: note, onUpdate: (_, p) => note(p) });
  pods.start();
  await pods.waitForSync();

  const t0 = performance.now();
  const apply = await c.kubectl(['apply', '-f', '-'], { stdin: manifest });
  if (apply.code !== 0) throw new Error(`kubectl apply: ${apply.stderr}`);
  const deadline = Date.now() + 600_000;
  while (ready.size < replicas) {
    if (Date.now() > deadline) throw new Error(`only ${ready.size}/${replicas} Ready after 10 minutes`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const allReadyMs = performance.now() - t0;
  await pods.stop();

  const list = (await c.client.list<Pod>(resources.pods, { namespace: ns, labelSelector: 'app=bench' }))
    .items;
  const fromTimestamps = list
    .filter(isReady)
    .map((p) => readyAt(p) - Date.parse(p.metadata.creationTimestamp ?? ''));
  const fromWatch = [...ready].map(([k, at]) => at - (seen.get(k) ?? at));
  const toBound = [...bound].map(([k, at]) => at - (seen.get(k) ?? at));
  const boundToReady = [...ready].map(([k, at]) => at - (bound.get(k) ?? at));
  const lastCreated = Math.max(...seen.values()) - t0;

  const row = (what: string, ours: number, peer: string) =>
    console.log(`${what.padEnd(46)} ${ours.toFixed(0).padStart(8)} ms   ${peer}`);
  console.log(`${replicas}-replica busybox Deployment, real node (crun + CNI), 2 cores, SQLite`);
  console.log(`${''.padEnd(46)} ${'drover'.padStart(11)}   Kubernetes (no peer here)`);
  row('apply -> all Ready', allReadyMs, '-');
  row('pod startup p50 (creationTimestamp -> Ready)', pct(fromTimestamps, 50), '-');
  row('pod startup p99 (creationTimestamp -> Ready)', pct(fromTimestamps, 99), `SLO p99 <= ${sloP99Ms} ms`);
  row('pod startup p50 (watch: first seen -> Ready)', pct(fromWatch, 50), '-');
  row('pod startup p99 (watch: first seen -> Ready)', pct(fromWatch, 99), `SLO p99 <= ${sloP99Ms} ms`);
  row('  of which first seen -> bound p99 (scheduler)', pct(toBound, 99), '-');
  row('  of which bound -> Ready p99 (node agent)', pct(boundToReady, 99), '-');
  row('apply -> last pod created (controllers)', lastCreated, '-');
  console.log(
    `ratio p99 / SLO: ${(pct(fromTimestamps, 99) / sloP99Ms).toFixed(2)} (timestamps, 1 s resolution), ${(pct(fromWatch, 99) / sloP99Ms).toFixed(2)} (watch)`,
  );
  // Scale to zero first: stop() then has no running pods to tear down by force.
  await c.kubectl(['delete', 'deployment', 'bench', '--wait=false']);
  const gone = Date.now() + 120_000;
  while ((await c.client.list(resources.pods, { namespace: ns })).items.length > 0 && Date.now() < gone)
    await new Promise((r) => setTimeout(r, 500));
} finally {
  const left = await c.stop();
  if (left.length > 0) console.error(`left behind: ${left.join(', ')}`);
}
