// The node agent against a real `drover server`, a real engine (crun +
// conmon) and the real CNI plugins: pods created with kubectl (bound by
// spec.nodeName) run as engine containers in CNI network namespaces, reach
// each other by pod IP, read env and files from a ConfigMap, crash-loop with
// back-off, report image errors, and leave nothing behind when deleted, also
// when deleted while the agent was down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent } from '../src/agent/agent.ts';
import { labelPodUid } from '../src/agent/naming.ts';
import { PodNetwork } from '../src/agent/network.ts';
import { HttpClient, loadKubeconfig, type Pod } from '../src/client/index.ts';
import { Engine } from '../src/engine/engine.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

const tag = `da${randomBytes(2).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'drv-agent-test-'));
const nodeName = `${tag}-node`;
const bridge = `${tag}cni0`;
const netnsPrefix = `${tag}-`;
const podCIDR = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]}.0/24`;
const busybox = new URL('../.images/busybox.tar', import.meta.url).pathname;
const log = silentLogger();

let server: TestServer;
let client: HttpClient;
let engine: Engine;
let agent: Agent | undefined;

function newAgent(): Agent {
  return new Agent({
    client,
    engine,
    nodeName,
    dataDir: join(dir, 'agent'),
    log,
    podCIDR,
    network: { bridge, netnsPrefix, networkName: `${tag}-pods` },
    backoff: { baseMs: 1000, maxMs: 4000 },
    resyncMs: 2000,
  });
}

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  engine = new Engine({ dataDir: join(dir, 'engine'), runDir: join(dir, 'run'), log, namePrefix: tag });
  await engine.init();
  await engine.loadImages(createReadStream(busybox));
  agent = newAgent();
  await agent.start();
});

after(async () => {
  await agent?.stop().catch(() => undefined);
  if (engine) {
    for (const c of await engine.listContainers({ all: true }).catch(() => []))
      await engine.removeContainer(c.Id, { force: true }).catch(() => undefined);
  }
  // Pod sandboxes a failed test left: CNI DEL through the agent's own hook
  // (it frees the address and the plugins' NAT chains), then the namespace.
  const net = new PodNetwork({
    podCIDR,
    dataDir: join(dir, 'agent', 'network'),
    bridge,
    netnsPrefix,
    networkName: `${tag}-pods`,
    log,
  });
  for (const uid of net.listSandboxes()) await net.teardown(uid).catch(() => undefined);
  removeChainsOf(`${tag}-pods`);
  spawnSync('ip', ['link', 'del', bridge]);
  await engine?.close().catch(() => undefined);
  spawnSync('nft', ['delete', 'table', 'ip', tag]);
  spawnSync('ip', ['link', 'del', `${tag}0`]);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp?.startsWith(dir)) spawnSync('umount', ['-l', mp]);
  }
  client?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Last resort: iptables NAT rules and chains whose comment names our CNI network. */
function removeChainsOf(network: string): void {
  const rules = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout.split('\n');
  const chains = new Set<string>();
  for (const r of rules) {
    if (!r.startsWith('-A ') || !r.includes(`"${network}"`)) continue;
    const args = r.slice(3).match(/"[^"]*"|\S+/g) ?? [];
    const [chain = '', ...rest] = args.map((a) => a.replace(/^"|"$/g, ''));
    if (chain.startsWith('CNI-')) chains.add(chain);
    else spawnSync('iptables', ['-t', 'nat', '-D', chain, ...rest]);
  }
  for (const c of chains) {
    spawnSync('iptables', ['-t', 'nat', '-F', c]);
    spawnSync('iptables', ['-t', 'nat', '-X', c]);
  }
}

function leftovers(): string[] {
  const out: string[] = [];
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    if (n.startsWith(netnsPrefix)) out.push(`netns ${n}`);
  const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout;
  for (const r of nat.split('\n')) if (r.includes(`"${tag}-pods"`)) out.push(`rule ${r}`);
  return out;
}

async function kubectl(args: string[], stdin?: string): Promise<string> {
  const r = await server.kubectl(args, { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getPod(name: string): Promise<Pod | undefined> {
  const r = await server.kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    last = await fn();
    if (last) return last as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pod's container output, straight from the engine (kubectl logs is not served yet). */
async function logsOf(pod: Pod): Promise<string> {
  const cs = await engine.listContainers({
    all: true,
    filters: { label: [`${labelPodUid}=${pod.metadata.uid}`] },
  });
  let out = '';
  for (const c of cs) {
    for await (const e of engine.containerLogs(c.Id, { stdout: true, stderr: true }))
      out += e.data.toString();
  }
  return out;
}

function podYaml(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec },
  });
}

const statusOf = (p: Pod | undefined) =>
  (p?.status?.containerStatuses ?? []) as {
    name: string;
    restartCount: number;
    state: {
      waiting?: { reason: string; message?: string };
      terminated?: { exitCode: number; reason: string };
    };
  }[];

test('the node registers Ready with a lease, labels and pod CIDR', async () => {
  const node = JSON.parse(await kubectl(['get', 'node', nodeName, '-o', 'json']));
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], nodeName);
  assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
  assert.equal(node.spec.podCIDR, podCIDR);
  assert.equal(node.status.capacity.pods, '110');
  assert.equal(node.status.nodeInfo.containerRuntimeVersion, 'drover://0.1.0');
  const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
  assert.equal(ready.status, 'True');
  const lease = JSON.parse(await kubectl(['get', 'lease', '-n', 'kube-node-lease', nodeName, '-o', 'json']));
  assert.equal(lease.spec.holderIdentity, nodeName);
  assert.match(await kubectl(['get', 'nodes']), new RegExp(`${nodeName}\\s+Ready`));
});

let webIP = '';
test('a pod reaches Running with a pod IP, as engine containers named like the kubelet names them', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    podYaml('web', {
      containers: [
        {
          name: 'httpd',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www',
          ],
          ports: [{ containerPort: 8080 }],
        },
      ],
    }),
  );
  const pod = await until('web Running', async () => {
    const p = await getPod('web');
    return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  });
  webIP = pod.status?.podIP ?? '';
  assert.ok(webIP.startsWith(podCIDR.split('.').slice(0, 3).join('.')), webIP);
  const wide = await kubectl(['get', 'pod', 'web', '-o', 'wide']);
  assert.match(
    wide,
    new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${webIP.replaceAll('.', '\\.')}\\s+${nodeName}`),
  );
  const cs = await engine.listContainers({ filters: { label: [`${labelPodUid}=${pod.metadata.uid}`] } });
  assert.equal(cs.length, 1);
  assert.equal(cs[0]?.Names[0], `/k8s_httpd_web_default_${pod.metadata.uid}_0`);
  assert.equal(cs[0]?.Labels['io.kubernetes.container.name'], 'httpd');
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
});

test('a second pod reaches the first by pod IP', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    podYaml('client', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'wget',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            `wget -O- http://${webIP}:8080/ 2>&1 | tee /dev/stderr | grep -q hello-from-web`,
          ],
        },
      ],
    }),
  );
  const pod = await until('client finished', async () => {
    const p = await getPod('client');
    return p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed' ? p : undefined;
  });
  assert.equal(pod.status?.phase, 'Succeeded', await logsOf(pod));
  assert.equal(statusOf(pod)[0]?.state.terminated?.reason, 'Completed');
});

test('env and files from a ConfigMap; hostname, /etc/hosts and resolv.conf of the pod', async () => {
  await kubectl(['create', 'configmap', 'settings', '--from-literal=greeting=hello', '--from-literal=a=1']);
  const checks = [
    'test "$GREETING" = hello',
    'test "$CFG_a" = 1',
    'test "$MY_NAME" = envpod',
    'test "$(cat /cfg/greeting)" = hello',
    'test "$(hostname)" = envpod',
    'grep -q "nameserver 10.43.0.10" /etc/resolv.conf',
    'grep -q "search default.svc.cluster.local svc.cluster.local cluster.local" /etc/resolv.conf',
    'grep -q "ndots:5" /etc/resolv.conf',
    'grep -q "envpod" /etc/hosts',
  ].join(' && ');
  await kubectl(
    ['apply', '-f', '-'],
    podYaml('envpod', {
      restartPolicy: 'Never',
      volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
      containers: [
        {
          name: 'check',
          image: 'busybox',
          command: ['sh', '-c', checks],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
            { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }],
          volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
        },
      ],
    }),
  );
  const pod = await until('envpod finished', async () => {
    const p = await getPod('envpod');
    return p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed' ? p : undefined;
  });
  assert.equal(pod.status?.phase, 'Succeeded', await logsOf(pod));
});

test('a crashing container restarts with back-off and shows CrashLoopBackOff', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    podYaml('crash', { containers: [{ name: 'fail', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] }),
  );
  const pod = await until(
    'CrashLoopBackOff after restarts',
    async () => {
      const p = await getPod('crash');
      const s = statusOf(p)[0];
      return s && s.restartCount >= 2 && s.state.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    },
    40_000,
  );
  assert.equal(pod.status?.phase, 'Running');
  assert.match(
    statusOf(pod)[0]?.state.waiting?.message ?? '',
    /back-off \d+s restarting failed container=fail/,
  );
  assert.match(await kubectl(['get', 'pod', 'crash']), /crash\s+0\/1\s+CrashLoopBackOff\s+\d/);
  const cs = await engine.listContainers({
    all: true,
    filters: { label: [`${labelPodUid}=${pod.metadata.uid}`] },
  });
  assert.ok(cs.length <= 2, `old attempts are pruned: ${cs.length}`);
});

test('a missing image shows ErrImagePull / ImagePullBackOff', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    podYaml('noimage', { containers: [{ name: 'x', image: 'no-such-image:1' }] }),
  );
  const pod = await until('image error', async () => {
    const p = await getPod('noimage');
    const r = statusOf(p)[0]?.state.waiting?.reason;
    return r === 'ErrImagePull' || r === 'ImagePullBackOff' ? p : undefined;
  });
  assert.equal(pod.status?.phase, 'Pending');
  assert.match(statusOf(pod)[0]?.state.waiting?.message ?? '', /no-such-image/);
});

function netnsOf(uid: string): boolean {
  return existsSync(`/run/netns/${netnsPrefix}pod-${uid}`);
}
function leasesHeld(): string[] {
  const d = join(dir, 'agent', 'network', 'cni-ipam', `${tag}-pods`);
  return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
}

test('kubectl delete pod returns once containers, namespace and address are gone', async () => {
  const pod = (await getPod('web'))!;
  const uid = pod.metadata.uid ?? '';
  assert.ok(netnsOf(uid));
  assert.ok(leasesHeld().includes(webIP));
  await kubectl(['delete', 'pod', 'web', '--timeout=30s']);
  assert.equal(await getPod('web'), undefined);
  const cs = await engine.listContainers({ all: true, filters: { label: [`${labelPodUid}=${uid}`] } });
  assert.equal(cs.length, 0);
  assert.equal(netnsOf(uid), false);
  assert.equal(leasesHeld().includes(webIP), false);
});

test('pods deleted while the agent is down are cleaned up when it starts', async () => {
  const crash = (await getPod('crash'))!;
  const uid = crash.metadata.uid ?? '';
  await agent?.stop();
  agent = undefined;
  await kubectl(['delete', 'pod', 'crash', '--force', '--grace-period=0']);
  assert.ok(netnsOf(uid), 'the namespace outlives the stopped agent');
  agent = newAgent();
  await agent.start();
  const cs = await engine.listContainers({ all: true, filters: { label: [`${labelPodUid}=${uid}`] } });
  assert.equal(cs.length, 0);
  assert.equal(netnsOf(uid), false);
  // The other pods are still handled by the new agent.
  await kubectl(['delete', 'pod', 'noimage', 'client', 'envpod', '--timeout=30s']);
  assert.deepEqual(leasesHeld(), []);
  assert.deepEqual(leftovers(), []);
});
