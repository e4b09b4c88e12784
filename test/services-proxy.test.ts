/**
 * Services through the kernel on a real one-node cluster: the seed lab
 * (`kubectl expose deploy web --type=NodePort`), fetched through
 * 127.0.0.1:<nodePort> and through the ClusterIP from a pod; spreading over
 * replicas, readiness, deletion, ClientIP affinity, rejection without
 * endpoints, and the table's removal when the node stops.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { resources } from '../src/client/index.ts';
import { type Cluster, startCluster, until } from './support/cluster.ts';

let c: Cluster;
const serve = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www';

before(async () => {
  c = await startCluster({ name: 'svc' });
});

after(async () => {
  const left = await c?.stop();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
});

/** One GET on a fresh connection (a kept-alive one would stick to one backend). */
function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => {
        body += b.toString();
      });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on('error', reject);
  });
}

async function hostsOf(host: string, port: number, n: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = await get(host, port);
    seen.set(h, (seen.get(h) ?? 0) + 1);
  }
  return seen;
}

/** `n` fetches of http://<ip>/ from inside pod `pod`, one hostname per line (wget -T segfaults in Debian's static busybox). */
async function fetchFromPod(pod: string, ip: string, n: number): Promise<string[]> {
  const out = await c.k(
    'exec',
    pod,
    '--',
    'sh',
    '-c',
    `for i in $(seq ${n}); do timeout 3 wget -qO- http://${ip}/; done`,
  );
  return out.split('\n').filter(Boolean);
}

interface PodInfo {
  name: string;
  ip: string;
  ready: boolean;
}

async function pods(selector: string): Promise<PodInfo[]> {
  const items = JSON.parse(await c.k('get', 'pods', '-l', selector, '-o', 'json')).items as {
    metadata: { name: string; deletionTimestamp?: string };
    status?: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] };
  }[];
  return items
    .filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status.podIP)
    .map((p) => ({
      name: p.metadata.name,
      ip: p.status?.podIP ?? '',
      ready: !!p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
    }));
}

const table = () => spawnSync('nft', ['list', 'table', 'ip', `${c.prefix}proxy`], { encoding: 'utf8' });

let nodePort = 0;
let clusterIP = '';
let web: PodInfo[] = [];

test('the seed lab: a NodePort Service spreads over every replica, from the node and from a pod', async () => {
  await c.k('create', 'deployment', 'web', '--image=busybox', '--replicas=3', '--', 'sh', '-c', serve);
  // Started now so they come up beside the replicas: a client, and pods for the readiness test.
  await c.k('run', 'client', '--image=busybox', '--restart=Never', '--', 'sleep', '3600');
  const probePods = ['ready', 'unready'].map((name) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `probe-${name}`, namespace: 'default', labels: { tier: 'probe' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'busybox',
          command: ['sh', '-c', serve],
          readinessProbe: { exec: { command: [name === 'ready' ? 'true' : 'false'] }, periodSeconds: 1 },
        },
      ],
    },
  }));
  for (const p of probePods) await c.client.create(resources.pods, p);
  await c.k('expose', 'deploy', 'web', '--type=NodePort', '--port=80', '--target-port=8080');

  web = await until(
    'three ready web replicas',
    async () => {
      const p = await pods('app=web');
      return p.length === 3 && p.every((x) => x.ready) && p;
    },
    60_000,
  );
  const wide = await c.k('get', 'pod,deploy,svc', '-o', 'wide');
  assert.match(wide, /service\/web\s+NodePort\s+\S+\s+<none>\s+80:\d+\/TCP/);
  assert.match(wide, /deployment\.apps\/web\s/);
  const svc = JSON.parse(await c.k('get', 'svc', 'web', '-o', 'json'));
  nodePort = svc.spec.ports[0].nodePort;
  clusterIP = svc.spec.clusterIP;

  // Every replica answers through 127.0.0.1:<nodePort> (once the rules list all three).
  await until(
    'all replicas in the rules',
    async () => web.every((p) => table().stdout.includes(`${p.ip} . 8080`)),
    10_000,
  );
  await until('the node port to answer', () => get('127.0.0.1', nodePort).then(Boolean, () => false), 10_000);
  const viaNode = await hostsOf('127.0.0.1', nodePort, 40);
  assert.deepEqual(
    [...viaNode.keys()].sort(),
    web.map((p) => p.name).sort(),
    'every replica receives requests',
  );

  // Through the ClusterIP from a pod on the same bridge (the reply passes conntrack via br_netfilter).
  await until('the client pod', async () => (await pods('run=client')).length === 1, 60_000);
  const viaPod = await fetchFromPod('client', clusterIP, 30);
  assert.equal(viaPod.length, 30, 'every fetch through the ClusterIP answered');
  assert.deepEqual([...new Set(viaPod)].sort(), web.map((p) => p.name).sort());

  // Hairpin: a replica reaching its own Service (sometimes itself).
  const self = await fetchFromPod(web[0]?.name ?? '', clusterIP, 30);
  assert.equal(self.length, 30);
  assert.ok(self.includes(web[0]?.name ?? ''), 'the replica reached itself through the Service');

  // default/kubernetes leads to the API server (a TLS server: it answers a plain request with an alert).
  const api = c.serviceCidr.replace('.0.0/16', '.0.1');
  const tls = await c.kubectl([
    'exec',
    'client',
    '--',
    'sh',
    '-c',
    `echo hi | timeout 3 nc ${api} 443; echo rc=$?`,
  ]);
  assert.match(tls.stdout, /rc=0/, `the kubernetes Service from a pod: ${tls.stdout}${tls.stderr}`);
});

test('a pod failing readiness receives nothing', async () => {
  await c.k(
    'expose',
    'pod',
    'probe-ready',
    '--name=probe',
    '--selector=tier=probe',
    '--port=80',
    '--target-port=8080',
  );
  const probeIP = JSON.parse(await c.k('get', 'svc', 'probe', '-o', 'json')).spec.clusterIP as string;
  await until(
    'both probe pods running, one ready',
    async () => {
      const p = await pods('tier=probe');
      return p.length === 2 && p.filter((x) => x.ready).length === 1;
    },
    60_000,
  );
  await until(
    'the probe Service to answer',
    async () => (await fetchFromPod('client', probeIP, 1)).length === 1,
    10_000,
  );
  const seen = await fetchFromPod('client', probeIP, 20);
  assert.deepEqual([...new Set(seen)], ['probe-ready']);
});

test('a deleted pod stops receiving within a second', async () => {
  const victim = web[1];
  assert.ok(victim);
  const started = Date.now();
  // A short grace period: the pod keeps serving for it, and the node's stop need not wait long.
  await c.client.delete(resources.pods, victim.name, { namespace: 'default', gracePeriodSeconds: 3 });
  await until(
    'the deleted pod to leave the rules',
    async () => !table().stdout.includes(`${victim.ip} . 8080`),
    5000,
  );
  const ms = Date.now() - started;
  assert.ok(ms < 1000, `the rules dropped the pod after ${ms} ms`);
  // It still runs (its grace period), but gets nothing.
  const seen = await hostsOf('127.0.0.1', nodePort, 20);
  assert.equal(seen.get(victim.name), undefined);
});

test('a LoadBalancer Service opens its port on the node addresses, beside its NodePort', async () => {
  const port = 20000 + Math.floor(Math.random() * 5000);
  await c.k(
    'expose',
    'deploy',
    'web',
    '--name=web-lb',
    '--type=LoadBalancer',
    `--port=${port}`,
    '--target-port=8080',
  );
  const lb = await until(
    'status.loadBalancer',
    async () => {
      const s = JSON.parse(await c.k('get', 'svc', 'web-lb', '-o', 'json'));
      return s.status?.loadBalancer?.ingress?.length > 0 && s;
    },
    10_000,
  );
  const nodeIP = JSON.parse(await c.k('get', 'node', c.nodeName, '-o', 'json')).status.addresses.find(
    (a: { type: string }) => a.type === 'InternalIP',
  ).address;
  assert.deepEqual(
    lb.status.loadBalancer.ingress.map((i: { ip: string }) => i.ip),
    [nodeIP],
  );
  await until(
    'the LoadBalancer port to answer',
    () => get('127.0.0.1', port).then(Boolean, () => false),
    10_000,
  );
  assert.ok((await get(nodeIP, port)).startsWith('web-'));
  assert.ok((await get('127.0.0.1', lb.spec.ports[0].nodePort)).startsWith('web-'));
});

test('ClientIP affinity sticks; a Service without endpoints refuses', async () => {
  await c.k('patch', 'svc', 'web', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}');
  await until('affinity rules', async () => table().stdout.includes('affinity-default/web'), 5000);
  const viaNode = await hostsOf('127.0.0.1', nodePort, 15);
  assert.equal(viaNode.size, 1, `one backend for one client, got ${[...viaNode.keys()].join(' ')}`);
  const viaPod = await fetchFromPod('client', clusterIP, 10);
  assert.equal(new Set(viaPod).size, 1);

  await c.k('create', 'service', 'clusterip', 'nothing', '--tcp=80:80');
  const ip = JSON.parse(await c.k('get', 'svc', 'nothing', '-o', 'json')).spec.clusterIP as string;
  await until(
    'reject rules',
    async () => table().stdout.includes(`${ip} . tcp . 80 : goto reject-chain`),
    5000,
  );
  const err = await new Promise<string>((resolve) => {
    const s = net.connect({ host: ip, port: 80, timeout: 3000 });
    s.once('connect', () => resolve('connected'));
    s.once('timeout', () => resolve('timeout'));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  }).finally(() => undefined);
  assert.equal(err, 'ECONNREFUSED');
});

test('stopping the node removes its table; starting it restores the rules', async () => {
  assert.equal(table().status, 0, 'the table exists while the node runs');
  await c.stopServer();
  assert.notEqual(table().status, 0, 'the table is gone');
  await c.startServer();
  await until('the table back', async () => table().status === 0);
  // The agent re-adopts the pods and the slices settle: the NodePort answers again within seconds.
  await until(
    'the node port to answer again',
    () => get('127.0.0.1', nodePort).then(Boolean, () => false),
    15_000,
  );
  assert.ok((await hostsOf('127.0.0.1', nodePort, 6)).size >= 1);
});
