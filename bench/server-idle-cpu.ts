// CPU of an idle all-in-one `drover server` (API server, scheduler,
// controllers and this machine's agent in one process) holding 100
// Deployments, read from /proc/<pid>/stat (utime + stime) over a window:
//   node bench/server-idle-cpu.ts [deployments=100] [replicasEach=0] [seconds=60]
// replicasEach=0 measures the control plane's own idle cost (informers,
// leases, resyncs); 1 adds a real running pod per Deployment (the agent's
// status, probe and housekeeping loops). Also prints the server's log lines
// per second during the window (it logs at debug: a hot loop shows up there).
// Target: < 2% of one core. Peer: none runs here; no like-for-like published
// figure exists to print beside it, so the target is printed instead.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { resources } from '../src/client/index.ts';
import { startCluster } from '../test/support/cluster.ts';

const deployments = Number(process.argv[2] ?? 100);
const replicasEach = Number(process.argv[3] ?? 0);
const seconds = Number(process.argv[4] ?? 60);
const ns = 'default';
const targetPct = 2;
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The `drover server` process of the cluster in `dir` (its node process, found by its command line). */
function serverPid(dir: string): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (
        argv.some((a) => a.endsWith('src/cli/main.ts')) &&
        argv.includes('server') &&
        argv.some((a) => a.startsWith(dir))
      )
        return Number(d);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no drover server process for ${dir}`);
}

/** utime + stime of `pid` in seconds (fields 14 and 15 of /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

const deployment = (i: number) => `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: idle-${i}, namespace: ${ns}}
spec:
  replicas: ${replicasEach}
  selector: {matchLabels: {app: idle-${i}}}
  template:
    metadata: {labels: {app: idle-${i}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
`;

const c = await startCluster({ name: 'idle', readyTimeoutMs: 120_000 });
try {
  const pid = serverPid(c.dir);
  const created = await c.kubectl(['apply', '-f', '-'], {
    stdin: Array.from({ length: deployments }, (_, i) => deployment(i)).join(''),
    timeoutMs: 120_000,
  });
  if (created.code !== 0) throw new Error(`kubectl apply: ${created.stderr}`);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const items = (await c.client.list(resources.deployments, { namespace: ns })).items;
    const settled = items.filter(
      (d) =>
        d.status?.observedGeneration === d.metadata.generation &&
        (d.status?.readyReplicas ?? 0) === replicasEach,
    );
    if (settled.length === deployments) break;
    if (Date.now() > deadline) throw new Error(`only ${settled.length}/${deployments} Deployments settled`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // Let start-up work (first resyncs, image GC, lease renewals) pass before measuring.
  await new Promise((r) => setTimeout(r, 10_000));
  const logBytes = () => statSync(c.logFile).size;
  const logLines = () => readFileSync(c.logFile, 'utf8').split('\n').length;
  const lines0 = logLines();
  const bytes0 = logBytes();
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = cpuSeconds(pid);
  const wall = (performance.now() - t0) / 1000;
  const pct = ((cpu1 - cpu0) / wall) * 100;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  console.log(
    `idle all-in-one server, ${deployments} Deployments x ${replicasEach} replica(s), ${wall.toFixed(0)} s window, 2 cores`,
  );
  console.log(`${''.padEnd(30)} ${'drover'.padStart(10)}   target`);
  console.log(
    `${'CPU (% of one core)'.padEnd(30)} ${pct.toFixed(2).padStart(10)}   < ${targetPct}  (ratio ${(pct / targetPct).toFixed(2)})`,
  );
  console.log(`${'server RSS (MiB)'.padEnd(30)} ${rss.toFixed(0).padStart(10)}`);
  console.log(
    `${'log lines/s at debug'.padEnd(30)} ${((logLines() - lines0) / wall).toFixed(2).padStart(10)}   (${((logBytes() - bytes0) / wall).toFixed(0)} B/s)`,
  );
  await c.kubectl(['delete', 'deployments', '--all', '--wait=false']);
  const gone = Date.now() + 120_000;
  while ((await c.client.list(resources.pods, { namespace: ns })).items.length > 0 && Date.now() < gone)
    await new Promise((r) => setTimeout(r, 500));
} finally {
  const left = await c.stop();
  if (left.length > 0) console.error(`left behind: ${left.join(', ')}`);
}
