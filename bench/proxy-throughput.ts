// Request throughput through the Service proxy's rules on a real one-node
// cluster: wrk on the host against busybox httpd pods (one per path, all
// alike), through a ClusterIP, through a NodePort on 127.0.0.1 and on the
// node's address, beside a pod IP directly (the peer: no proxy at all). Rounds alternate
// the paths; each path's median is reported with its ratio to direct.
// busybox httpd answers one request per connection, so every request is a
// new connection: the NAT path (conntrack entry, DNAT, masquerade) is on
// every request, the hardest case for a proxy.
// Run as root: node bench/proxy-throughput.ts [seconds] [connections] [rounds]
import { spawnSync } from 'node:child_process';
import { loadavg, networkInterfaces } from 'node:os';
import { startCluster, until } from '../test/support/cluster.ts';

const seconds = Number(process.argv[2] ?? 3);
// busybox httpd listens with a backlog of 9: more connections than that overflow its accept
// queue at random, and each overflow costs a 1 s SYN retry that swamps any proxy difference.
const connections = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 7);

function wrk(url: string): number {
  const r = spawnSync('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`wrk ${url}: ${r.stdout}${r.stderr}`);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(r.stdout);
  if (errors) process.stderr.write(`  (${url}: ${errors[0]})\n`);
  return Number(m[1]);
}

function nodeAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const c = await startCluster({ name: 'thr' });
try {
  // One identical pod per path: a single client hammering one backend through paths that
  // present it different source addresses/ports would have the backend's TIME_WAIT sockets of one
  // path refuse the SYNs of another (an artifact of the set-up, not of any path).
  const serve = 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www';
  for (const name of ['d', 'c', 'n', 'm'])
    await c.k('run', `web-${name}`, '--image=busybox', '--restart=Never', '--', 'sh', '-c', serve);
  await c.k('expose', 'pod', 'web-c', '--name=cip', '--port=80', '--target-port=8080');
  await c.k('expose', 'pod', 'web-n', '--name=np', '--type=NodePort', '--port=80', '--target-port=8080');
  await c.k('expose', 'pod', 'web-m', '--name=np2', '--type=NodePort', '--port=80', '--target-port=8080');
  const podIP = await until(
    'four ready pods',
    async () => {
      const items = JSON.parse(await c.k('get', 'pods', '-o', 'json')).items as {
        metadata: { name: string };
        status?: { podIP?: string; conditions?: { type: string; status: string }[] };
      }[];
      const ready = items.filter((x) =>
        x.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True'),
      );
      return ready.length === 4 && ready.find((p) => p.metadata.name === 'web-d')?.status?.podIP;
    },
    60_000,
  );
  const svc = async (name: string) => JSON.parse(await c.k('get', 'svc', name, '-o', 'json'));
  const cip = await svc('cip');
  const np = await svc('np');
  const np2 = await svc('np2');
  const paths: [string, string][] = [
    ['pod IP (direct)', `http://${podIP}:8080/`],
    ['ClusterIP', `http://${cip.spec.clusterIP}/`],
    ['NodePort 127.0.0.1', `http://127.0.0.1:${np.spec.ports[0].nodePort}/`],
  ];
  const addr = nodeAddress();
  if (addr) paths.push([`NodePort ${addr}`, `http://${addr}:${np2.spec.ports[0].nodePort}/`]);
  await until(
    'the NodePort to answer',
    async () => spawnSync('wget', ['-qO-', '-T', '2', paths[2]?.[1] ?? '']).status === 0,
    10_000,
  ).catch(() => undefined);
  // Other work on the machine drifts between rounds: each path is compared with direct in the
  // same round, and the median of those ratios is reported.
  const results = new Map<string, number[]>(paths.map(([n]) => [n, []]));
  const ratios = new Map<string, number[]>(paths.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const round = paths.map(([name, url]) => [name, wrk(url)] as const);
    const direct = round[0]?.[1] ?? Number.NaN;
    for (const [name, rps] of round) {
      results.get(name)?.push(rps);
      ratios.get(name)?.push(rps / direct);
    }
  }
  console.log(
    `proxy throughput: wrk -t2 -c${connections} -d${seconds}s, ${rounds} rounds, busybox httpd (a connection per request), load average ${loadavg()[0]?.toFixed(1)}`,
  );
  for (const [name] of paths) {
    const rps = median(results.get(name) ?? []);
    const ratio = median(ratios.get(name) ?? []);
    const verdict = name.startsWith('pod')
      ? ''
      : ratio >= 0.9
        ? '  (target >= 0.9x: met)'
        : '  (target >= 0.9x: MISSED)';
    console.log(
      `  ${name.padEnd(24)} ${rps.toFixed(0).padStart(8)} req/s (median), ${ratio.toFixed(2)}x of direct (median per round)${verdict}`,
    );
  }
} finally {
  const left = await c.stop();
  if (left.length) console.error('left behind:', left);
}
