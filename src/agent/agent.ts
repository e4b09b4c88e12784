/**
 * The node agent (kubelet): registers the Node, keeps its Lease and status
 * fresh, and runs the pods bound to it as engine containers. One pod
 * informer (fieldSelector spec.nodeName=<node>) feeds a workqueue keyed by
 * namespace/name; workers call PodWorker.sync. Engine container exits also
 * enqueue their pod, and every pod is resynced periodically. Stopping the
 * agent leaves pods running; starting it again re-adopts them from the
 * engine's labels and cleans up pods deleted meanwhile.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, Clock, Informer, Lease, Node, Pod } from '../client/index.ts';
import {
  EventRecorder,
  InformerFactory,
  keyOf,
  realClock,
  resources,
  runWorkers,
  Workqueue,
} from '../client/index.ts';
import { netnsPathOf } from '../engine/network/netns.ts';
import type { EngineApi } from '../engine/types.ts';
import { describeError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { ConfigError, type ConfigSource } from './env.ts';
import {
  defaultThresholds,
  evictionMessage,
  measurePressure,
  type Pressure,
  pickVictim,
  type Thresholds,
} from './eviction.ts';
import { PodIpc } from './ipc.ts';
import { labelManaged, labelPodName, labelPodNamespace, podKey, podRefOf } from './naming.ts';
import { PodNetwork } from './network.ts';
import { hostIPv4, type NodeFacts, nodeStatus, registerNode, renewLease } from './node.ts';
import { type Backoff, defaultBackoff } from './plan.ts';
import { PodLogs } from './pod-logs.ts';
import { PodWorker } from './pod-worker.ts';
import { ProbeManager } from './probes.ts';
import { PodVolumes } from './volumes.ts';

export interface AgentOptions {
  client: Client;
  engine: EngineApi;
  nodeName: string;
  /** Agent state: pod volumes, CNI cache and IPAM leases. */
  dataDir: string;
  /** Runtime state on tmpfs: pod IPC namespaces (default /run/drover/agent). */
  runDir?: string;
  log: Logger;
  /** Default 10.43.0.10. */
  clusterDNS?: string;
  /** Default cluster.local. */
  clusterDomain?: string;
  /** Overrides node.spec.podCIDR (tests); else the Node's, else a free /24 of clusterCIDR. */
  podCIDR?: string;
  /** Default 10.42.0.0/16. */
  clusterCIDR?: string;
  /** Adds node-role.kubernetes.io/control-plane (the server's own node). */
  controlPlane?: boolean;
  /** Default: the host's first non-loopback IPv4. */
  nodeIP?: string;
  /** Pod log links `<dir>/<ns>_<pod>_<uid>/<container>/<attempt>.log` (pod-logs.ts); unset: none. */
  podLogDir?: string;
  /** Where this node's kubelet port listens (published in the Node's daemonEndpoints; default 10250). */
  kubeletPort?: number;
  /** Kernel object names: bridge (default drover-cni0), netns prefix (default drover-), CNI network name. */
  network?: { bridge?: string; netnsPrefix?: string; networkName?: string; pluginDirs?: string[] };
  /** Crash back-off (default 10 s doubling to 5 min). */
  backoff?: Partial<Backoff>;
  /** Hard eviction thresholds (default memory.available 100Mi, nodefs.available 10%). */
  evictionThresholds?: Partial<Thresholds>;
  workers?: number;
  leaseRenewMs?: number;
  statusMs?: number;
  resyncMs?: number;
  clock?: Clock;
}

export class Agent {
  readonly #o: AgentOptions;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  readonly #queue: Workqueue<string>;
  readonly #informers: InformerFactory;
  readonly #pods: Informer<Pod>;
  readonly #facts: NodeFacts;
  readonly #timers: (() => void)[] = [];
  #node: Node | undefined;
  #lease: Lease | undefined;
  #worker: PodWorker | undefined;
  #network: PodNetwork | undefined;
  #volumes: PodVolumes | undefined;
  #probes: ProbeManager | undefined;
  #ipc: PodIpc | undefined;
  readonly #events: EventRecorder;
  #running: Promise<unknown>[] = [];
  readonly #terminating = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<void>>();
  podCIDR = '';

  constructor(o: AgentOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#queue = new Workqueue<string>({ clock: this.#clock });
    this.#informers = new InformerFactory(o.client, { log: o.log, clock: this.#clock });
    this.#events = new EventRecorder({
      client: o.client,
      component: 'kubelet',
      host: o.nodeName,
      log: o.log,
      clock: this.#clock,
    });
    this.#pods = this.#informers.informerFor<Pod>(resources.pods, {
      fieldSelector: `spec.nodeName=${o.nodeName}`,
    });
    this.#facts = {
      name: o.nodeName,
      ip: o.nodeIP ?? hostIPv4(),
      controlPlane: o.controlPlane ?? false,
      dataDir: o.dataDir,
      maxPods: 110,
      kubeletPort: o.kubeletPort,
    };
  }

  /** Registers the node, re-adopts or cleans up what the engine holds, then runs pods until stop(). */
  /** The agent's shared informer caches; node-level parts (proxy, DNS, ingress) reuse them after start(). */
  get informers(): InformerFactory {
    return this.#informers;
  }

  async start(): Promise<void> {
    const o = this.#o;
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    const { node, podCIDR } = await registerNode(o.client, this.#facts, {
      podCIDR: o.podCIDR,
      clusterCIDR: o.clusterCIDR ?? '10.42.0.0/16',
      now: this.#clock.now(),
    });
    this.#node = node;
    this.podCIDR = podCIDR;
    this.#lease = await renewLease(o.client, node, undefined, this.#clock.now());
    this.#ipc = new PodIpc({ root: join(o.runDir ?? '/run/drover/agent', 'ipc') });
    this.#network = new PodNetwork({
      podCIDR,
      dataDir: join(o.dataDir, 'network'),
      ipc: this.#ipc,
      log: o.log,
      ...o.network,
    });
    this.#volumes = new PodVolumes({
      root: join(o.dataDir, 'pods'),
      source: this.#configSource(),
      allocatable: () => this.#allocatable(),
      claims: (ns, claim) => this.#claimPath(ns, claim),
    });
    this.#probes = new ProbeManager({
      engine: o.engine,
      log: o.log,
      onChange: (key) => this.#queue.add(key),
      kill: (id, grace) => o.engine.stopContainer(id, { timeout: grace }),
    });
    this.#worker = new PodWorker({
      client: o.client,
      engine: o.engine,
      network: this.#network,
      volumes: this.#volumes,
      probes: this.#probes,
      ipc: this.#ipc,
      logs: o.podLogDir ? new PodLogs({ dir: o.podLogDir, engine: o.engine, log: o.log }) : undefined,
      events: this.#events,
      source: this.#configSource(),
      dns: { clusterDNS: o.clusterDNS ?? '10.43.0.10', clusterDomain: o.clusterDomain ?? 'cluster.local' },
      hostIP: () => this.#facts.ip,
      allocatable: () => this.#allocatable(),
      backoff: { ...defaultBackoff, ...o.backoff },
      now: () => this.#clock.now(),
      log: o.log,
    });
    const signal = this.#abort.signal;
    this.#informers.start(signal);
    if (!(await this.#informers.waitForSync(signal))) return;
    await this.#collectGarbage();
    this.#pods.addHandler({
      onAdd: (p) => this.#queue.add(keyOf(p)),
      // Status is ours to write: a status-only change (mostly our own write coming back) needs no sync.
      onUpdate: (old, p) => {
        if (!statusOnlyChange(old, p)) this.#queue.add(keyOf(p));
      },
      onDelete: (p) => this.#queue.add(keyOf(p)),
    });
    this.#running.push(
      runWorkers(this.#queue, o.workers ?? 8, (key) => this.#reconcile(key), { signal, log: o.log }),
      this.#watchEngine(signal),
    );
    this.#every(o.leaseRenewMs ?? 10_000, async () => {
      this.#lease = await renewLease(o.client, node, this.#lease, this.#clock.now());
    });
    this.#every(o.statusMs ?? 10_000, async () => {
      this.#node = await o.client.patch<Node>(
        resources.nodes,
        o.nodeName,
        'merge',
        { status: await nodeStatus(this.#facts, this.#clock.now(), this.#node, await this.#evict()) },
        { subresource: 'status' },
      );
    });
    this.#every(o.resyncMs ?? 10_000, async () => {
      for (const p of this.#pods.store.list()) this.#queue.add(keyOf(p));
      await this.#collectGarbage();
    });
    o.log.info({ node: o.nodeName, podCIDR, pods: this.#pods.store.size }, 'agent started');
  }

  /** Stops watching and syncing; pods keep running (conmon holds them). */
  async stop(): Promise<void> {
    this.#abort.abort();
    for (const cancel of this.#timers.splice(0)) cancel();
    this.#queue.shutDown();
    this.#probes?.stopAll();
    await Promise.allSettled([...this.#running, ...this.#terminating.values(), ...this.#inFlight]);
    await this.#informers.stop();
    await this.#events.flush().catch(() => undefined);
  }

  /** Pods this agent has in its cache (for tests and the integrator). */
  get pods(): Informer<Pod> {
    return this.#pods;
  }

  /** The network namespace path of a pod's sandbox (port-forward's loopback fallback). */
  podNetns(uid: string): string | undefined {
    return this.#network ? netnsPathOf(this.#network.netnsName(uid)) : undefined;
  }

  #every(ms: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (this.#abort.signal.aborted) return;
      // stop() waits for a run in flight (a garbage collection may be tearing a pod down).
      const run: Promise<void> = fn()
        .catch((err: unknown) => this.#o.log.warn({ err: describeError(err) }, 'agent periodic task failed'))
        .finally(() => {
          this.#inFlight.delete(run);
          if (!this.#abort.signal.aborted) this.#timers.push(this.#clock.after(ms, tick));
        });
      this.#inFlight.add(run);
    };
    this.#timers.push(this.#clock.after(ms, tick));
  }

  async #reconcile(key: string): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    const pod = this.#pods.store.get(key);
    const [namespace = '', name = ''] = key.split('/');
    // Containers of an earlier pod of this name (deleted, maybe re-created) go.
    const list = await this.#o.engine.listContainers({
      all: true,
      filters: {
        label: [`${labelPodNamespace}=${namespace}`, `${labelPodName}=${name}`, `${labelManaged}=true`],
      },
    });
    const stale = new Set(
      list.map((c) => podRefOf(c.Labels)?.uid ?? '').filter((u) => u && u !== pod?.metadata.uid),
    );
    for (const uid of stale) await worker.cleanup(uid, 0);
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) {
      this.#terminate(pod);
      return;
    }
    const r = await worker.sync(pod);
    if (r.retryAfterMs !== undefined) this.#queue.addAfter(key, Math.max(1, Math.ceil(r.retryAfterMs)));
  }

  /**
   * Terminations run beside the workers, one per pod, so that grace periods
   * (up to 30 s of waiting each) never hold the queue up for other pods.
   */
  #terminate(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    if (this.#terminating.has(uid) || !this.#worker) return;
    const key = keyOf(pod);
    const done = this.#worker
      .terminate(pod)
      .catch((err: unknown) => {
        this.#o.log.warn({ pod: key, err: describeError(err) }, 'terminating pod; retrying');
        this.#queue.addAfter(key, 1000);
      })
      .finally(() => this.#terminating.delete(uid));
    this.#terminating.set(uid, done);
  }

  /** Container exits (and other state changes) bring their pod's worker round. */
  async #watchEngine(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const ev of this.#o.engine.events({
          filters: { type: ['container'], label: [`${labelManaged}=true`] },
          signal,
        })) {
          if (ev.Action !== 'die' && ev.Action !== 'oom') continue;
          const ref = podRefOf(ev.Actor.Attributes);
          if (ref) this.#queue.add(podKey(ref));
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#o.log.warn({ err: describeError(err) }, 'engine events ended; watching again');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Removes containers, namespaces and volume directories of pods this node no longer has. */
  async #collectGarbage(): Promise<void> {
    const worker = this.#worker;
    if (!worker || !this.#network || !this.#volumes) return;
    const known = new Set(this.#pods.store.list().map((p) => p.metadata.uid ?? ''));
    const list = await this.#o.engine.listContainers({
      all: true,
      filters: { label: [`${labelManaged}=true`] },
    });
    const uids = new Set<string>();
    for (const c of list) {
      const uid = podRefOf(c.Labels)?.uid;
      if (uid && !known.has(uid)) uids.add(uid);
    }
    const kept = [
      ...this.#network.listSandboxes(),
      ...this.#volumes.listPods(),
      ...(this.#ipc?.listPods() ?? []),
    ];
    for (const uid of kept) if (!known.has(uid)) uids.add(uid);
    for (const uid of uids) {
      this.#o.log.info({ uid }, 'cleaning up pod no longer on this node');
      await worker.cleanup(uid, 0).catch((err: unknown) => {
        if (!(err instanceof NotFoundError))
          this.#o.log.warn({ uid, err: describeError(err) }, 'cleaning up pod');
      });
    }
  }

  /** Measures pressure and, while there is some, evicts one pod per period (eviction.ts). */
  async #evict(): Promise<Pressure> {
    const thresholds = { ...defaultThresholds, ...this.#o.evictionThresholds };
    const pressure = await measurePressure(this.#o.dataDir, thresholds);
    if (!pressure.memory && !pressure.disk) return pressure;
    const victim = pickVictim(this.#pods.store.list());
    if (victim && this.#worker) {
      this.#o.log.info({ pod: keyOf(victim), pressure }, 'evicting pod under node pressure');
      await this.#worker.evict(victim, evictionMessage(pressure));
    }
    return pressure;
  }

  /** A bound claim's volume path: a hostPath or local PersistentVolume. */
  async #claimPath(namespace: string, claim: string): Promise<string> {
    type Pvc = Pod & { spec?: { volumeName?: string } };
    type Pv = Pod & { spec?: { hostPath?: { path: string }; local?: { path: string } } };
    const client = this.#o.client;
    const pvc = await client
      .get<Pvc>(resources.persistentVolumeClaims, claim, { namespace })
      .catch((err: unknown) => {
        if (err instanceof NotFoundError) throw new ConfigError(`persistentvolumeclaim "${claim}" not found`);
        throw err;
      });
    const volume = pvc.spec?.volumeName;
    if (!volume) throw new ConfigError(`persistentvolumeclaim "${claim}" is not bound`);
    const pv = await client.get<Pv>(resources.persistentVolumes, volume);
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (!path)
      throw new ConfigError(`persistentvolume "${volume}": only hostPath and local volumes can be mounted`);
    return path;
  }

  #allocatable(): { cpu: string; memory: string } {
    return {
      cpu: this.#node?.status?.allocatable?.cpu ?? '1',
      memory: this.#node?.status?.allocatable?.memory ?? '1Gi',
    };
  }

  #configSource(): ConfigSource {
    const client = this.#o.client;
    const get = async (r: typeof resources.configMaps, ns: string, name: string) => {
      try {
        return await client.get<{ metadata: object; data?: Record<string, string> } & Pod>(r, name, {
          namespace: ns,
        });
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    };
    return {
      configMap: async (ns, name) => (await get(resources.configMaps, ns, name))?.data ?? undefined,
      secret: async (ns, name) => {
        const s = await get(resources.secrets, ns, name);
        if (!s) return undefined;
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString();
        for (const [k, v] of Object.entries((s.stringData ?? {}) as Record<string, string>)) out[k] = v;
        return out;
      },
    };
  }
}

/** Whether two versions of a pod differ in status (and bookkeeping) only, not in spec or metadata. */
function statusOnlyChange(old: Pod, cur: Pod): boolean {
  const strip = (p: Pod) => {
    const {
      resourceVersion: _rv,
      managedFields: _mf,
      ...metadata
    } = p.metadata as Pod['metadata'] & {
      managedFields?: unknown;
    };
    return JSON.stringify([metadata, p.spec]);
  };
  return strip(old) === strip(cur);
}
