// Streaming through the API server on a real all-in-one cluster: kubectl
// port-forward (SPDY/3.1 tunnelled in WebSocket, and plain SPDY), kubectl cp
// both ways (tar over exec); then a second node joined with the server's
// token (its own certificate, its own kubelet port) whose pod's logs, exec
// and port-forward go through the API server, and whose credential may not
// touch another node.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PodNetwork } from '../src/agent/network.ts';
import { Engine } from '../src/engine/engine.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { freePort } from './apiserver-harness.ts';
import { type Cluster, startCluster, until } from './support/cluster.ts';
import { removeChainsOf } from './support/cni-cleanup.ts';
import { busyboxArchive, droverBin } from './support/engine-daemon.ts';

let c: Cluster;
let joined: JoinedNode | undefined;

before(async () => {
  c = await startCluster({ name: 'str' });
  await c.k(
    'run',
    'web',
    '--image=busybox',
    '--restart=Never',
    '--',
    'sh',
    '-c',
    'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www',
  );
  await c.k('wait', '--for=condition=Ready', 'pod/web', '--timeout=60s');
});

after(async () => {
  await joined?.stop();
  const left = await c?.stop();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
});

/** Runs `kubectl port-forward` until `use(localPort)` is done. */
async function portForward<T>(
  env: Record<string, string>,
  use: (port: number) => Promise<T>,
  pod = 'pod/web',
): Promise<T> {
  const child = spawn('/usr/bin/kubectl', ['port-forward', pod, '0:8080'], {
    env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    const port = await until(`port-forward ready (${out})`, async () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    return await use(port);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

for (const [name, env] of [
  ['SPDY over WebSocket', {}],
  ['plain SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
] as const) {
  test(`kubectl port-forward, ${name}: HTTP GETs through the tunnel`, async () => {
    await portForward(env, async (port) => {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/index.html`, {
          headers: { Connection: 'close' },
        });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'hello-from-pod\n');
      }
    });
  });
}

test("kubectl port-forward to a listener on the pod's own loopback (from inside its namespace)", async () => {
  await c.k(
    'run',
    'lo',
    '--image=busybox',
    '--restart=Never',
    '--',
    'sh',
    '-c',
    'mkdir -p /www && echo only-inside > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www',
  );
  await c.k('wait', '--for=condition=Ready', 'pod/lo', '--timeout=60s');
  await portForward(
    {},
    async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`, { headers: { Connection: 'close' } });
      assert.equal(await res.text(), 'only-inside\n');
    },
    'pod/lo',
  );
  await c.k('delete', 'pod', 'lo', '--grace-period=1');
});

test('kubectl port-forward to a port nobody listens on reports the error', async () => {
  const child = spawn('/usr/bin/kubectl', ['port-forward', 'pod/web', '0:9999'], {
    env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    const port = await until('port-forward ready', async () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 9999/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    await until(`an error about port 9999 (${out})`, async () =>
      /error forwarding port 9999 to pod web/.test(out) ? true : undefined,
    );
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

/** kubectl with extra environment, stdin and the exit code. */
function kubectlEnv(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/kubectl', args, {
      env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('kubectl exec over SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): output, stdin, exit code', async () => {
  const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
  const r = await kubectlEnv(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], spdy);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.match(r.stderr, /^err$/m);
  const cat = await kubectlEnv(['exec', '-i', 'web', '--', 'cat'], spdy, 'piped through spdy\n');
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'piped through spdy\n');
});

test('kubectl cp both ways (tar over exec)', async () => {
  const dir = join(c.dir, 'cp');
  mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'tree', 'sub', 'b.bin'), Buffer.alloc(300_000, 7));
  await c.k('cp', join(dir, 'tree'), 'web:/tmp/tree');
  assert.equal(await c.k('exec', 'web', '--', 'cat', '/tmp/tree/a.txt'), 'alpha\n');
  assert.equal(await c.k('exec', 'web', '--', 'sh', '-c', 'wc -c < /tmp/tree/sub/b.bin'), '300000\n');
  await c.k('cp', 'web:/tmp/tree', join(dir, 'back'));
  assert.equal(readFileSync(join(dir, 'back', 'a.txt'), 'utf8'), 'alpha\n');
  assert.deepEqual(readFileSync(join(dir, 'back', 'sub', 'b.bin')), Buffer.alloc(300_000, 7));
  await c.k('cp', 'web:/www/index.html', join(dir, 'index.html'));
  assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'hello-from-pod\n');
});

interface JoinedNode {
  name: string;
  dataDir: string;
  kubeletPort: number;
  podLogs: string;
  /** The agent's output so far. */
  log(): string;
  /** Stops the agent (pods keep running) and starts it again with this token. */
  restart(token: string): Promise<void>;
  stop(): Promise<void>;
}

/** `drover agent --server --token` as a second node on this host, with kernel names of its own. */
async function joinNode(token: string): Promise<JoinedNode> {
  const prefix = `${c.prefix}j`;
  const dir = join(c.dir, 'joined');
  const dataDir = join(dir, 'data');
  const runDir = join(dir, 'run');
  const kubeletPort = await freePort();
  const name = `${prefix}-node`;
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(dir, 'agent.log'));
  const spawnAgent = (joinToken: string): ChildProcess => {
    const child = spawn(
      droverBin,
      [
        'agent',
        '--server',
        c.url,
        '--token',
        joinToken,
        '--node-name',
        name,
        '--data-dir',
        dataDir,
        '--run-dir',
        runDir,
        '--docker-socket',
        '',
        '--name-prefix',
        prefix,
        '--kubelet-port',
        String(kubeletPort),
        '--cluster-dns',
        c.clusterDNS.replace(/\.10$/, '.11'),
        '--ingress-http-port',
        '0',
        '--ingress-https-port',
        '0',
        '--load-image',
        busyboxArchive,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    return child;
  };
  let child = spawnAgent(token);
  const halt = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  };
  const restart = async (joinToken: string) => {
    await halt();
    child = spawnAgent(joinToken);
  };
  const stop = async () => {
    // Pods outlive their agent by design: delete them while it runs, then sweep what is left.
    if (child.exitCode === null && child.signalCode === null)
      await c.kubectl([
        'delete',
        'pods',
        '-A',
        '--field-selector',
        `spec.nodeName=${name}`,
        '--grace-period=1',
        '--timeout=60s',
      ]);
    await halt();
    log.end();
    const engine = new Engine({ dataDir, runDir, log: silentLogger(), namePrefix: prefix });
    try {
      await engine.init();
      for (const x of await engine.listContainers({ all: true }))
        await engine.removeContainer(x.Id, { force: true }).catch(() => undefined);
    } finally {
      await engine.close().catch(() => undefined);
    }
    const net = new PodNetwork({
      podCIDR: '10.0.0.0/24',
      dataDir: join(dataDir, 'agent', 'network'),
      bridge: `${prefix}cni0`,
      netnsPrefix: `${prefix}k-`,
      networkName: `${prefix}-pods`,
      log: silentLogger(),
    });
    for (const uid of net.listSandboxes()) await net.teardown(uid).catch(() => undefined);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(dir));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    // What a stopped node keeps by design (bridges, the engine's table) goes with the test.
    removeChainsOf(`${prefix}-pods`);
    const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout.split('\n');
    for (const t of tables.map((l) => l.replace(/^table /, '').trim()))
      if (t.split(' ')[1]?.startsWith(prefix)) spawnSync('nft', ['delete', 'table', ...t.split(' ')]);
    for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
      if (n.startsWith(prefix)) spawnSync('ip', ['netns', 'del', n]);
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter((l) => l.startsWith(prefix));
    for (const l of links) spawnSync('ip', ['link', 'del', l]);
  };
  const logText = () =>
    existsSync(join(dir, 'agent.log')) ? readFileSync(join(dir, 'agent.log'), 'utf8') : '';
  return { name, dataDir, kubeletPort, podLogs: '', log: logText, restart, stop };
}

test('a node joined with the token: its own certificate; logs, exec and port-forward through the API server', async () => {
  const token = readFileSync(join(c.dir, 'data', 'token'), 'utf8').trim();
  assert.match(token, /^K10[0-9a-f]{64}::node:[0-9a-f]{32}$/);
  joined = await joinNode(token);
  const node = joined;
  await until(
    'the joined node is Ready',
    async () => {
      const r = await c.kubectl([
        'get',
        'node',
        node.name,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.stdout === 'True';
    },
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; agent log:\n${node.log().slice(-3000)}`);
  });
  const subject = execFileSync(
    'openssl',
    ['x509', '-noout', '-subject', '-in', join(node.dataDir, 'agent', 'pki', 'node.crt')],
    {
      encoding: 'utf8',
    },
  );
  assert.match(subject, new RegExp(`CN ?= ?system:node:${node.name}`));
  assert.match(subject, /O ?= ?system:nodes/);
  const port = await c.k(
    'get',
    'node',
    node.name,
    '-o',
    'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}',
  );
  assert.equal(Number(port), node.kubeletPort);
  const cidr = (n: string) => c.k('get', 'node', n, '-o', 'jsonpath={.spec.podCIDR}');
  const [mine, first] = await Promise.all([cidr(node.name), cidr(c.nodeName)]);
  assert.match(mine, /^10\.\d+\.\d+\.0\/24$/);
  assert.notEqual(mine, first, 'each node gets its own pod CIDR');

  writeFileSync(
    join(c.dir, 'far.json'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'far' },
      spec: {
        nodeName: node.name,
        containers: [
          {
            name: 'app',
            image: 'busybox',
            command: [
              'sh',
              '-c',
              'echo far-away; mkdir -p /www; echo far-page > /www/index.html; exec httpd -f -p 8080 -h /www',
            ],
          },
        ],
      },
    }),
  );
  await c.k('apply', '-f', join(c.dir, 'far.json'));
  await c.k('wait', '--for=condition=Ready', 'pod/far', '--timeout=60s');
  await until(
    'logs of the joined node',
    async () => (await c.kubectl(['logs', 'far'])).stdout === 'far-away\n',
  );
  // A followed log streams through the proxy (nothing may buffer the answer).
  const follow = spawn('/usr/bin/kubectl', ['logs', '-f', 'far'], {
    env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig },
  });
  let followed = '';
  follow.stdout.on('data', (d: Buffer) => {
    followed += d.toString();
  });
  try {
    await until('logs -f streams', async () => followed === 'far-away\n');
    assert.equal(follow.exitCode, null, 'still following');
  } finally {
    follow.kill('SIGTERM');
  }
  assert.equal(await c.k('exec', 'far', '--', 'hostname'), 'far\n');
  // The kubelet's layout: <pod log dir>/<ns>_<pod>_<uid>/<container>/<attempt>.log, CRI format.
  const uid = await c.k('get', 'pod', 'far', '-o', 'jsonpath={.metadata.uid}');
  const podLogs = join(node.dataDir, 'pod-logs', `default_far_${uid}`);
  assert.match(readFileSync(join(podLogs, 'app', '0.log'), 'utf8'), /^\S+ stdout F far-away$/m);
  node.podLogs = podLogs;
  const failed = await c.kubectl(['exec', 'far', '--', 'sh', '-c', 'exit 3']);
  assert.equal(failed.code, 3, failed.stderr);
  await portForward(
    {},
    async (local) => {
      const res = await fetch(`http://127.0.0.1:${local}/index.html`, { headers: { Connection: 'close' } });
      assert.equal(await res.text(), 'far-page\n');
    },
    'pod/far',
  );
});

test("a node's credential may write its own Node but not another node's; its kubelet port admits only the API server", async () => {
  const node = joined;
  assert.ok(node, 'the join test ran first');
  const pki = join(node.dataDir, 'agent', 'pki');
  const kc = join(c.dir, 'node-kubeconfig.yaml');
  writeFileSync(
    kc,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${c.url}", certificate-authority: "${join(pki, 'ca.crt')}"}}]`,
      `users: [{name: node, user: {client-certificate: "${join(pki, 'node.crt')}", client-key: "${join(pki, 'node.key')}"}}]`,
      'contexts: [{name: self, context: {cluster: c, user: node}}]',
      'current-context: self',
      '',
    ].join('\n'),
  );
  const asNode = (...a: string[]) => c.kubectl(['--kubeconfig', kc, ...a]);
  const own = await asNode('label', 'node', node.name, 'drover.test/own=yes');
  assert.equal(own.code, 0, own.stderr);
  const other = await asNode('label', 'node', c.nodeName, 'drover.test/stolen=yes');
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /forbidden/i);
  const del = await asNode('delete', 'pod', 'web', '--wait=false');
  assert.match(del.stderr, /forbidden/i);
  assert.equal((await asNode('get', 'pods', '-o', 'name')).code, 0);
  // The kubelet port: a node certificate from the same CA is not the API server.
  const status = await new Promise<number>((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: node.kubeletPort,
          path: '/api/v1/namespaces/default/pods/far/log',
          ca: readFileSync(join(pki, 'ca.crt')),
          cert: readFileSync(join(pki, 'node.crt')),
          key: readFileSync(join(pki, 'node.key')),
          checkServerIdentity: () => undefined,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
      .on('error', reject);
  });
  assert.equal(status, 403);
  // A restart reuses the stored certificate: the token is not needed (nor checked) again.
  await node.restart('K10bogus::node:not-the-token');
  await until('exec through the restarted agent', async () => {
    const r = await c.kubectl(['exec', 'far', '--', 'cat', '/www/index.html']);
    return r.code === 0 && r.stdout === 'far-page\n';
  });
  await c.k('delete', 'pod', 'far', '--grace-period=1', '--timeout=60s');
  await until('the pod log directory is gone', async () => !existsSync(node.podLogs));
});
