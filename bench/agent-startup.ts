/**
 * Pod startup latency (issue 5): N pods already bound to the node (image
 * present) created at once through the API; for each, the time from its
 * create call returning to the agent's Running status arriving on a watch.
 * Prints p50/p99/max and the time until all are Running, then deletes them
 * all and reports how long that took. The Kubernetes SLO is p99 <= 5 s.
 *
 *   node bench/agent-startup.ts [N=20]
 */
import { type Pod, resources } from '../src/client/index.ts';
import { AgentCluster } from '../test/agent-harness.ts';

const n = Number(process.argv[2] ?? 20);
const c = new AgentCluster();

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

try {
  await c.start();
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const abort = new AbortController();
  const list = await c.client.list<Pod>(resources.pods, { namespace: 'default' });
  const done = (async () => {
    for await (const ev of c.client.watch<Pod>(resources.pods, {
      namespace: 'default',
      resourceVersion: list.metadata?.resourceVersion,
      signal: abort.signal,
    })) {
      const name = ev.object.metadata.name ?? '';
      if (ev.object.status?.phase === 'Running' && !running.has(name)) {
        running.set(name, performance.now());
        if (running.size === n) return;
      }
    }
  })();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const name = `bench-${i}`;
      await c.client.create<Pod>(resources.pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: {
          nodeName: c.nodeName,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
        },
      });
      created.set(name, performance.now());
    }),
  );
  await done;
  const all = performance.now() - t0;
  abort.abort();
  const lat = [...running].map(([name, t]) => t - (created.get(name) ?? t));
  const rss = process.memoryUsage().rss / 2 ** 20;
  const t1 = performance.now();
  await c.kubectl(['delete', 'pod', '--all', '--timeout=120s']);
  const del = performance.now() - t1;
  console.log(`pods: ${n} created at once, busybox present, CNI bridge network`);
  console.log(
    `startup latency (create returned -> Running on watch): p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms`,
  );
  console.log(
    `all ${n} Running after ${all.toFixed(0)} ms; all deleted (kubectl delete --all) in ${del.toFixed(0)} ms`,
  );
  console.log(`test process RSS (agent + engine + client in one process): ${rss.toFixed(0)} MiB`);
  console.log(`leftovers: ${JSON.stringify(c.leftovers())}`);
} finally {
  await c.stop();
}
