/**
 * A real one-node cluster for acceptance tests: `drover server` all-in-one
 * (API server over SQLite, scheduler, controllers, and this machine as its
 * node: engine, Docker API, agent and the node-level parts started with it)
 * as a child process. Each cluster gets its own directories, API port,
 * kernel-object name prefix, pod and service ranges and cluster DNS address,
 * so clusters never collide with each other or with a `make up` cluster.
 * `stop()` removes everything it made and reports what was left behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodNetwork } from '../../src/agent/network.ts';
import { HttpClient, loadKubeconfig } from '../../src/client/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { freePort, type KubectlResult, run } from '../apiserver-harness.ts';
import { removeChainsOf, removePortmapScaffolding } from './cni-cleanup.ts';
import { busyboxArchive, droverBin } from './engine-daemon.ts';

export interface ClusterOptions {
  /** A short word naming the test (used in directory names and the kernel prefix). */
  name: string;
  /** More `drover server` flags. */
  args?: string[];
  /** Milliseconds to wait for the node to be Ready (default 60 s). */
  readyTimeoutMs?: number;
}

export interface Cluster {
  dir: string;
  /** Prefix of this node's kernel objects: bridges, netns, nftables tables, dummy links. */
  prefix: string;
  nodeName: string;
  serviceCidr: string;
  clusterCidr: string;
  clusterDNS: string;
  /** https://127.0.0.1:<port> */
  url: string;
  kubeconfig: string;
  dockerSocket: string;
  logFile: string;
  client: HttpClient;
  /** Runs the real kubectl against this cluster. */
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** kubectl that must succeed; returns stdout. */
  k(...args: string[]): Promise<string>;
  /** Runs the real docker CLI against this node's Docker API. */
  docker(args: string[]): KubectlResult;
  /** The server's log so far (debug level), for assertion messages. */
  log(): string;
  /** Stops the server (pods keep running, as after a real stop). */
  stopServer(): Promise<void>;
  /** Starts the stopped server again with the same flags; resolves once its agent is back. */
  startServer(): Promise<void>;
  /** Stops everything, removes containers and kernel objects; returns what could not be removed. */
  stop(): Promise<string[]>;
}

const silent = silentLogger();

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const r = randomBytes(3);
  const word = o.name.replace(/[^a-z0-9]/g, '').slice(0, 3);
  // Interface names are at most 15 bytes: keep the prefix short (`<prefix>cni0`, `<prefix>dns0`).
  const prefix = `dc${word}${r.toString('hex').slice(0, 2)}`;
  const serviceCidr = `10.${100 + (r[1]! % 50)}.0.0/16`;
  const clusterDNS = serviceCidr.replace('.0.0/16', '.0.10');
  const clusterCidr = `10.${150 + (r[2]! % 50)}.0.0/16`;
  const dir = mkdtempSync(join(tmpdir(), `drv-cluster-${word}-`));
  const dataDir = join(dir, 'data');
  const runDir = join(dir, 'run');
  const dockerSocket = join(dir, 'docker.sock');
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const logFile = join(dir, 'server.log');
  const nodeName = `${prefix}-node`;
  const port = await freePort();
  const args = [
    '--log-level',
    'debug',
    'server',
    '--datastore',
    'sqlite',
    '--data-dir',
    dataDir,
    '--run-dir',
    runDir,
    '--docker-socket',
    dockerSocket,
    '--https-listen',
    `127.0.0.1:${port}`,
    '--node-name',
    nodeName,
    '--name-prefix',
    prefix,
    '--service-cidr',
    serviceCidr,
    '--cluster-cidr',
    clusterCidr,
    '--cluster-dns',
    clusterDNS,
    '--load-image',
    busyboxArchive,
    // No ingress on 80/443 unless a test asks (clusters of parallel tests would fight over them).
    '--ingress-http-port',
    '0',
    '--ingress-https-port',
    '0',
    // Cluster DNS forwards other names to these resolvers: none, so no test query leaves the host.
    '--resolv-conf',
    join(dir, 'resolv.conf'),
    ...(o.args ?? []),
  ];
  writeFileSync(join(dir, 'resolv.conf'), '# no upstream resolvers in tests\n');
  const env = { ...process.env, HOME: join(dir, 'home'), KUBECONFIG: kubeconfig };
  let child: ChildProcess | undefined;
  let tail = '';
  const logStream = createWriteStream(logFile, { flags: 'a' });

  const kubectl = (a: string[], opts: { stdin?: string; timeoutMs?: number } = {}) =>
    run('/usr/bin/kubectl', a, { env, stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 60_000 });
  const cluster: Cluster = {
    dir,
    prefix,
    nodeName,
    serviceCidr,
    clusterCidr,
    clusterDNS,
    url: `https://127.0.0.1:${port}`,
    kubeconfig,
    dockerSocket,
    logFile,
    client: undefined as unknown as HttpClient,
    kubectl,
    async k(...a) {
      const res = await kubectl(a);
      assert.equal(res.code, 0, `kubectl ${a.join(' ')}: ${res.stderr}`);
      return res.stdout;
    },
    docker(a) {
      const res = spawnSync('docker', ['-H', `unix://${dockerSocket}`, ...a], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DOCKER_CONFIG: join(dir, 'docker-config') },
      });
      return { code: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : tail),
    startServer: async () => undefined,
    async stopServer() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
    async stop() {
      cluster.client?.close();
      await cluster.stopServer();
      logStream.end();
      await removeNode();
      const left = leftovers();
      cleanupKernel();
      rmSync(dir, { recursive: true, force: true });
      return left;
    },
  };

  /** Pods outlive the server by design: remove their containers and sandboxes like an admin would. */
  async function removeNode(): Promise<void> {
    if (existsSync(join(dataDir, 'engine.pid')) || existsSync(join(dataDir, 'containers'))) {
      const engine = new Engine({ dataDir, runDir, log: silent, namePrefix: prefix });
      try {
        await engine.init();
        for (const c of await engine.listContainers({ all: true }))
          await engine.removeContainer(c.Id, { force: true }).catch(() => undefined);
      } catch {
        // Reported by leftovers() below.
      } finally {
        await engine.close().catch(() => undefined);
      }
    }
    const net = new PodNetwork({
      podCIDR: '10.0.0.0/24',
      dataDir: join(dataDir, 'agent', 'network'),
      bridge: `${prefix}cni0`,
      netnsPrefix: `${prefix}k-`,
      networkName: `${prefix}-pods`,
      log: silent,
    });
    for (const uid of net.listSandboxes()) await net.teardown(uid).catch(() => undefined);
    // The agent's per-pod IPC namespaces (bind mounts) go with their pods.
    for (const mp of mountsUnder(join(runDir, 'agent', 'ipc')).reverse()) spawnSync('umount', ['-l', mp]);
  }

  /**
   * What a stopped node keeps by design, like docker0 and dockerd's rules:
   * the engine's bridge and table and the pods' CNI bridge. Anything else
   * of ours (proxy tables, DNS links, netns, mounts, conmon) is a leak.
   */
  const infrastructure = new Set([`link ${prefix}0`, `link ${prefix}cni0`, `nftables table ip ${prefix}`]);

  function leftovers(): string[] {
    const out: string[] = [];
    for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
      if (n.startsWith(prefix)) out.push(`netns ${n}`);
    for (const l of links()) out.push(`link ${l}`);
    for (const t of nftTables()) out.push(`nftables table ${t}`);
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4] ?? '';
      // The runtime's state tmpfs stays mounted by design (like /run).
      if (mp.startsWith(dir) && mp !== join(runDir, 'oci')) out.push(`mount ${mp}`);
    }
    const conmons = spawnSync('pgrep', ['-f', `conmon.*${dir}`], { encoding: 'utf8' }).stdout;
    for (const p of conmons.split('\n').filter(Boolean)) out.push(`conmon ${p}`);
    return out.filter((x) => !infrastructure.has(x));
  }

  function cleanupKernel(): void {
    removeChainsOf(`${prefix}-pods`);
    removePortmapScaffolding();
    for (const t of nftTables()) spawnSync('nft', ['delete', 'table', ...t.split(' ')]);
    for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
      if (n.startsWith(prefix)) spawnSync('ip', ['netns', 'del', n]);
    for (const l of links()) spawnSync('ip', ['link', 'del', l]);
    for (const mp of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', mp]);
  }

  function links(): string[] {
    return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter((l) => l.startsWith(prefix));
  }

  /** "family name" of every nftables table named with our prefix. */
  function nftTables(): string[] {
    return spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.replace(/^table /, '').trim())
      .filter((t) => t.split(' ')[1]?.startsWith(prefix));
  }

  /** Spawns the server and waits until this node's agent has renewed its Lease since `since`. */
  async function launch(since: number): Promise<void> {
    const proc = spawn(droverBin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (b: Buffer) => {
      logStream.write(b);
      tail = (tail + b.toString()).slice(-8000);
    });
    const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`drover server exited early:\n${tail}`);
      if (existsSync(kubeconfig)) {
        const res = await kubectl([
          'get',
          'node',
          nodeName,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]);
        const lease = await kubectl([
          '-n',
          'kube-node-lease',
          'get',
          'lease',
          nodeName,
          '-o',
          'jsonpath={.spec.renewTime}',
        ]);
        if (res.code === 0 && res.stdout === 'True' && Date.parse(lease.stdout) >= since - 1000) return;
      }
      if (Date.now() > deadline) throw new Error(`the cluster's node did not become Ready:\n${tail}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  cluster.startServer = () => launch(Date.now());

  try {
    await launch(Date.now());
    cluster.client = new HttpClient(await loadKubeconfig(kubeconfig));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mp) => mp.startsWith(dir));
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `ms`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
