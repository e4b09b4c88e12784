/**
 * A one-node cluster for agent integration tests: a `drover server` child,
 * an in-process Engine and Agent with their own temp dirs and kernel object
 * names (bridge, netns prefix, nftables table, CNI network), kubectl with a
 * fresh HOME, and a cleanup that leaves the host as found even after a
 * failure (CNI DEL of leftover sandboxes, then rules, links and mounts by name).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentOptions } from '../src/agent/agent.ts';
import { labelPodUid } from '../src/agent/naming.ts';
import { PodNetwork } from '../src/agent/network.ts';
import { agentSubresources } from '../src/agent/subresources.ts';
import { adminKubeconfig, writeKubeconfig } from '../src/apiserver/kubeconfig.ts';
import { loadOrCreatePki } from '../src/apiserver/pki.ts';
import { ApiServer } from '../src/apiserver/server.ts';
import { HttpClient, loadKubeconfig, type Pod } from '../src/client/index.ts';
import { Engine } from '../src/engine/engine.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { MemoryStore } from '../src/storage/memory.ts';
import { run, startServer, type TestServer } from './apiserver-harness.ts';
import { removeChainsOf, removePortmapScaffolding } from './support/cni-cleanup.ts';

const busybox = new URL('../.images/busybox.tar', import.meta.url).pathname;
const log = silentLogger();

export type ContainerStatus = {
  name: string;
  restartCount: number;
  ready: boolean;
  state: {
    waiting?: { reason: string; message?: string };
    running?: { startedAt: string };
    terminated?: { exitCode: number; reason: string };
  };
  lastState: { terminated?: { exitCode: number; reason: string } };
};

export class AgentCluster {
  readonly tag = `da${randomBytes(2).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'drv-agent-test-'));
  readonly nodeName = `${this.tag}-node`;
  readonly bridge = `${this.tag}cni0`;
  readonly netnsPrefix = `${this.tag}k-`;
  readonly network = `${this.tag}-pods`;
  readonly podCIDR = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]}.0/24`;
  server!: Pick<TestServer, 'kubeconfig' | 'kubectl' | 'stop'>;
  client!: HttpClient;
  engine!: Engine;
  agent: Agent | undefined;

  readonly #inProcess: boolean;

  /**
   * With `inProcessServer`, the API server runs in this process over a memory
   * store, with the agent's pods/log handler at its extension point (as the
   * all-in-one server will wire it); otherwise `drover server` is a child.
   */
  constructor(opts: { inProcessServer?: boolean } = {}) {
    this.#inProcess = opts.inProcessServer ?? false;
  }

  async start(): Promise<void> {
    this.server = this.#inProcess ? await this.#startInProcess() : await startServer({ datastore: 'sqlite' });
    this.client = new HttpClient(await loadKubeconfig(this.server.kubeconfig));
    this.engine = new Engine({
      dataDir: join(this.dir, 'engine'),
      runDir: join(this.dir, 'run'),
      log,
      namePrefix: this.tag,
    });
    await this.engine.init();
    await this.engine.loadImages(createReadStream(busybox));
    this.agent = this.newAgent();
    await this.agent.start();
  }

  async #startInProcess(): Promise<Pick<TestServer, 'kubeconfig' | 'kubectl' | 'stop'>> {
    const store = new MemoryStore();
    const pki = await loadOrCreatePki(join(this.dir, 'tls'));
    const api = new ApiServer({
      store,
      pki,
      host: '127.0.0.1',
      port: 0,
      log,
      // The engine exists only after start(): bind the handlers late.
      subresources: {
        http: { 'pods/log': (r, res) => agentSubresources(this.engine).http['pods/log']!(r, res) },
        upgrade: {
          'pods/exec': (r, socket, head) =>
            agentSubresources(this.engine).upgrade['pods/exec']!(r, socket, head),
          'pods/attach': (r, socket, head) =>
            agentSubresources(this.engine).upgrade['pods/attach']!(r, socket, head),
        },
      },
    });
    await api.start();
    const kubeconfig = join(this.dir, 'kubeconfig.yaml');
    await writeKubeconfig(kubeconfig, adminKubeconfig(pki, api.url));
    const env = { ...process.env, HOME: join(this.dir, 'home'), KUBECONFIG: kubeconfig };
    return {
      kubeconfig,
      kubectl: (args, opts = {}) =>
        run('/usr/bin/kubectl', args, { stdin: opts.stdin, env, timeoutMs: 60_000 }),
      stop: async () => {
        await api.stop();
        await store.close();
      },
    };
  }

  newAgent(extra: Partial<AgentOptions> = {}): Agent {
    return new Agent({
      client: this.client,
      engine: this.engine,
      nodeName: this.nodeName,
      dataDir: join(this.dir, 'agent'),
      runDir: join(this.dir, 'agent-run'),
      log,
      podCIDR: this.podCIDR,
      network: { bridge: this.bridge, netnsPrefix: this.netnsPrefix, networkName: this.network },
      backoff: { baseMs: 1000, maxMs: 4000 },
      resyncMs: 2000,
      ...extra,
    });
  }

  async stop(): Promise<void> {
    await this.agent?.stop().catch(() => undefined);
    const engine = this.engine as Engine | undefined;
    if (engine) {
      for (const c of await engine.listContainers({ all: true }).catch(() => []))
        await engine.removeContainer(c.Id, { force: true }).catch(() => undefined);
    }
    const net = new PodNetwork({
      podCIDR: this.podCIDR,
      dataDir: join(this.dir, 'agent', 'network'),
      bridge: this.bridge,
      netnsPrefix: this.netnsPrefix,
      networkName: this.network,
      log,
    });
    for (const uid of net.listSandboxes()) await net.teardown(uid).catch(() => undefined);
    removeChainsOf(this.network);
    removePortmapScaffolding();
    spawnSync('ip', ['link', 'del', this.bridge]);
    await engine?.close().catch(() => undefined);
    spawnSync('nft', ['delete', 'table', 'ip', this.tag]);
    spawnSync('ip', ['link', 'del', `${this.tag}0`]);
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4];
      if (mp?.startsWith(this.dir)) spawnSync('umount', ['-l', mp]);
    }
    this.client?.close();
    await this.server?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Namespaces and NAT rules of this cluster's pods still present. */
  leftovers(): string[] {
    const out: string[] = [];
    for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
      if (n.startsWith(this.netnsPrefix)) out.push(`netns ${n}`);
    const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout;
    for (const r of nat.split('\n')) if (r.includes(`"${this.network}"`)) out.push(`rule ${r}`);
    const pods = join(this.dir, 'agent', 'pods');
    const ipc = join(this.dir, 'agent-run');
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4] ?? '';
      if (mp.startsWith(pods) || mp.startsWith(ipc)) out.push(`mount ${mp}`);
    }
    return out;
  }

  netnsOf(uid: string): boolean {
    return existsSync(`/run/netns/${this.netnsPrefix}pod-${uid}`);
  }

  /** Addresses host-local has handed out and not released. */
  leasesHeld(): string[] {
    const d = join(this.dir, 'agent', 'network', 'cni-ipam', this.network);
    return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
  }

  async kubectl(args: string[], stdin?: string): Promise<string> {
    const r = await this.server.kubectl(args, { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async apply(name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<void> {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels },
      spec: { nodeName: this.nodeName, terminationGracePeriodSeconds: 2, ...spec },
    };
    await this.kubectl(['apply', '-f', '-'], JSON.stringify(pod));
  }

  async getPod(name: string): Promise<Pod | undefined> {
    const r = await this.server.kubectl(['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
  }

  /** Polls the pod until `ok` holds. */
  async waitPod(name: string, what: string, ok: (p: Pod) => boolean, ms = 30_000): Promise<Pod> {
    return until(
      `${name}: ${what}`,
      async () => {
        const p = await this.getPod(name);
        return p && ok(p) ? p : undefined;
      },
      ms,
    );
  }

  /** Waits for Succeeded or Failed; asserts Succeeded with the containers' output as the message. */
  async expectSucceeded(name: string, ms = 30_000): Promise<Pod> {
    const p = await this.waitPod(
      name,
      'finished',
      (x) => x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed',
      ms,
    );
    assert.equal(
      p.status?.phase,
      'Succeeded',
      `${JSON.stringify(p.status?.containerStatuses)}\n${await this.logsOf(p)}`,
    );
    return p;
  }

  /** The pod's container output, straight from the engine (kubectl logs is not served yet). */
  async logsOf(pod: Pod): Promise<string> {
    const cs = await this.containersOf(pod.metadata.uid ?? '');
    let out = '';
    for (const c of cs) {
      out += `--- ${c.Names[0]}\n`;
      for await (const e of this.engine.containerLogs(c.Id, { stdout: true, stderr: true }))
        out += e.data.toString();
    }
    return out;
  }

  containersOf(uid: string) {
    return this.engine.listContainers({ all: true, filters: { label: [`${labelPodUid}=${uid}`] } });
  }
}

export function statuses(p: Pod | undefined, init = false): ContainerStatus[] {
  return ((init ? p?.status?.initContainerStatuses : p?.status?.containerStatuses) ??
    []) as ContainerStatus[];
}

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
