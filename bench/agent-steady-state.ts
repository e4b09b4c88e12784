/**
 * The node agent at steady state (issue 5): N running pods on one node
 * (busybox `sleep`, image present, CNI bridge network), then over S seconds
 * the agent's CPU and RSS, the API server's CPU, and conmon's RSS/PSS per
 * pod. The agent runs with its production timings (resync, status and lease
 * every 10 s) in this process with the engine; the API server (SQLite) is a
 * child process. Targets (issue 5, 500 pods) are printed beside the figures.
 *
 *   node bench/agent-steady-state.ts [N=100] [S=60]
 *   AGENT_PROFILE=/tmp/x.cpuprofile node bench/agent-steady-state.ts   (profile of the window)
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type Pod, resources } from '../src/client/index.ts';
import { AgentCluster } from '../test/agent-harness.ts';

const n = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 60);
const c = new AgentCluster();
// The harness's /24 holds 254 pods; a /22 holds 1022.
if (n > 250)
  (c as { podCIDR: string }).podCIDR =
    `10.${200 + (randomBytes(1)[0]! % 50)}.${(randomBytes(1)[0]! % 64) * 4}.0/22`;

const mib = (bytes: number) => bytes / 2 ** 20;
const clockTicks = 100;

/** utime + stime of a process and its children (bin/drover is a shell wrapper), in seconds. */
function procCpu(pid: number): number {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n');
  return kids.filter(Boolean).reduce((s, k) => s + procCpu(Number(k)), ownCpu(pid));
}

function ownCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clockTicks;
}

function smapsKiB(pid: number, field: 'Rss' | 'Pss'): number {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
    );
    return Number(m?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function runningCount(): Promise<number> {
  const list = await c.client.list<Pod>(resources.pods, { namespace: 'default' });
  return list.items.filter((p) => p.status?.phase === 'Running').length;
}

try {
  await c.start();
  // Production timings: the harness's agent resyncs every 2 s.
  await c.agent?.stop();
  c.agent = c.newAgent({ resyncMs: 10_000 });
  await c.agent.start();
  global.gc?.();
  const baseRss = process.memoryUsage().rss;

  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await c.client.create<Pod>(resources.pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `steady-${i}`, namespace: 'default' },
          spec: {
            nodeName: c.nodeName,
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'app', image: 'busybox', command: ['sleep', '36000'] }],
          },
        });
      }
    }),
  );
  const deadline = Date.now() + 120_000 + n * 500;
  while ((await runningCount()) < n) {
    if (Date.now() > deadline) throw new Error(`only ${await runningCount()} of ${n} pods running`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const upMs = performance.now() - t0;
  // Let the start-up burst (status writes, events, their re-syncs) settle.
  await new Promise((r) => setTimeout(r, 15_000));

  const serverPid = (c.server as { pid?: number }).pid;
  const cpu0 = process.cpuUsage();
  const server0 = serverPid ? procCpu(serverPid) : 0;
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  // AGENT_PROFILE=<file>: a CPU profile of this process over the window only.
  const session = process.env.AGENT_PROFILE ? new Session() : undefined;
  session?.connect();
  await session?.post('Profiler.enable');
  await session?.post('Profiler.start');
  let maxRss = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cpu = process.cpuUsage(cpu0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.AGENT_PROFILE ?? '', JSON.stringify(profile));
  }
  const agentPct = ((cpu.user + cpu.system) / 1e6 / seconds) * 100;
  const serverPct = serverPid ? ((procCpu(serverPid) - server0) / seconds) * 100 : Number.NaN;
  const conmons = spawnSync('pgrep', ['-f', `conmon.*${c.dir}`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  const conmonRss = conmons.reduce((s, p) => s + smapsKiB(p, 'Rss'), 0) / 1024 / (conmons.length || 1);
  const conmonPss = conmons.reduce((s, p) => s + smapsKiB(p, 'Pss'), 0) / 1024 / (conmons.length || 1);
  const agentShare = mib(maxRss - baseRss) / n;
  const row = (what: string, ours: string, target: string) =>
    console.log(`${what.padEnd(52)}${ours.padStart(12)}   ${target}`);

  console.log(`${n} running pods on one node (busybox, CNI bridge), measured over ${seconds} s`);
  console.log(
    `load average at start ${load0}, at end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log(`${''.padEnd(52)}${'drover'.padStart(12)}   target (issue 5, 500 pods)`);
  row('all pods Running after (create -> Running)', `${(upMs / 1000).toFixed(1)} s`, '-');
  row('agent process CPU (agent + engine), % of a core', `${agentPct.toFixed(2)} %`, '< 5 %');
  row('API server child CPU, % of a core', `${serverPct.toFixed(2)} %`, '-');
  row('agent process RSS (max over the window)', `${mib(maxRss).toFixed(0)} MiB`, '< 200 MiB');
  row('agent RSS growth per pod (vs. before the pods)', `${agentShare.toFixed(2)} MiB`, '-');
  row(`conmon per pod (${conmons.length} conmons): RSS`, `${conmonRss.toFixed(2)} MiB`, '-');
  row('conmon per pod: PSS', `${conmonPss.toFixed(2)} MiB`, '-');
  row('memory per pod (conmon PSS + agent share)', `${(conmonPss + agentShare).toFixed(2)} MiB`, '< 3 MiB');
} finally {
  await c.stop();
  console.log(`leftovers: ${JSON.stringify(c.leftovers())}`);
}
