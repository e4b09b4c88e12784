import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../agent/agent.ts';
import type { KubeletServer } from '../../agent/kubelet-server.ts';
import type { AgentSubresources } from '../../agent/subresources.ts';
import type { Connection, HttpClient } from '../../client/index.ts';
import { createDockerApiServer } from '../../dockerapi/server.ts';
import { Engine } from '../../engine/engine.ts';
import type { IngressController } from '../../ingress/index.ts';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { NodeDns } from '../../proxy/dns/node-dns.ts';
import type { ServiceProxy } from '../../proxy/proxy.ts';

type agentSubresourcesType = typeof import('../../agent/subresources.ts').agentSubresources;

export interface LocalNodeOptions {
  /** The engine and its Docker API only (`drover engine`): no agent will start. */
  engineOnly?: boolean;
  dataDir: string;
  runDir: string;
  log: Logger;
  /** Serve the Docker API here (empty/undefined: none). */
  dockerSocket?: string;
  loadImage?: string[];
  /** Kernel object names, for several nodes on one host (tests). */
  namePrefix?: string;
  nodeName?: string;
  clusterDNS?: string;
  podCIDR?: string;
  clusterCIDR?: string;
  controlPlane?: boolean;
  /** OCI runtime: crun (default) or runc. */
  runtime?: string;
  /** Cluster domain served by this node's DNS (default cluster.local). */
  clusterDomain?: string;
  /** The host's resolvers, where cluster DNS forwards other names (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Ingress listeners on this node (default 80 and 443; 0: none). */
  ingressHttpPort?: number;
  ingressHttpsPort?: number;
  /**
   * A joined node's kubelet port (kubelet-server.ts): the API server proxies
   * logs/exec/attach/port-forward here. Unset: none (the all-in-one server
   * calls `subresources` in-process).
   */
  kubelet?: { port: number; host?: string; tls: { cert: string; key: string; ca: string } };
  /**
   * Pod log links (agent/pod-logs.ts). Default /var/log/pods, or
   * `<dataDir>/pod-logs` with a `namePrefix` (several nodes on one host, tests).
   */
  podLogDir?: string;
}

/**
 * This machine as a node: the engine, its Docker API and the agent. Used by
 * `drover agent` and meant for the all-in-one `drover server`: create it
 * first, pass `subresources` to the API server (logs/exec/attach reach this
 * node's containers), then `startAgent(connection)` once the API listens.
 * `stop()` leaves pods running (the next start re-adopts them).
 */
export class LocalNode {
  readonly engine: Engine;
  /**
   * pods/log, exec, attach and portforward for the API server; none for an
   * engine-only node (`drover engine` loads no Kubernetes parts at all).
   */
  readonly subresources: AgentSubresources;
  readonly #o: LocalNodeOptions;
  #api: ReturnType<typeof createDockerApiServer> | undefined;
  #agent: Agent | undefined;
  #client: HttpClient | undefined;
  #dns: NodeDns | undefined;
  #proxy: ServiceProxy | undefined;
  #ingress: IngressController | undefined;
  #localPath: { stop(): Promise<void> } | undefined;
  #kubelet: KubeletServer | undefined;

  private constructor(o: LocalNodeOptions, engine: Engine, subresources: agentSubresourcesType | undefined) {
    this.#o = o;
    this.engine = engine;
    this.subresources = subresources
      ? subresources(engine, {
          pod: (ns, name) => this.#agent?.pods.store.get(`${ns}/${name}`),
          netns: (uid) => this.#agent?.podNetns(uid),
        })
      : { http: {}, upgrade: {} };
  }

  static async create(o: LocalNodeOptions): Promise<LocalNode> {
    if (process.getuid?.() !== 0)
      throw new Error('the node needs root (namespaces, cgroups, mounts): run it with sudo');
    const engine = new Engine({
      dataDir: o.dataDir,
      runDir: o.runDir,
      log: o.log,
      namePrefix: o.namePrefix,
      runtime: o.runtime,
    });
    await engine.init();
    for (const tar of o.loadImage ?? []) {
      await engine
        .loadImages(createReadStream(tar))
        .catch((err: unknown) =>
          o.log.warn({ tar, err: describeError(err) }, 'loading image archive failed'),
        );
    }
    // The Kubernetes side loads only for a cluster node: the plain engine daemon stays small.
    const subresources = o.engineOnly
      ? undefined
      : (await import('../../agent/subresources.ts')).agentSubresources;
    const node = new LocalNode(o, engine, subresources);
    if (o.dockerSocket) {
      node.#api = createDockerApiServer({ engine, log: o.log });
      await node.#api.listen(o.dockerSocket);
    }
    return node;
  }

  /** Serves the Docker API on one more socket or TCP address (loopback unless asked otherwise). */
  async listenDockerApi(target: string | { host: string; port: number }): Promise<void> {
    this.#api ??= createDockerApiServer({ engine: this.engine, log: this.#o.log });
    await this.#api.listen(target);
  }

  async startAgent(conn: Connection): Promise<Agent> {
    const o = this.#o;
    const [
      { Agent },
      { startKubeletServer },
      { defaultPodLogDir },
      { HttpClient },
      { startLocalPathNode },
      { startNodeIngress },
      { NodeDns },
      { ServiceProxy },
    ] = await Promise.all([
      import('../../agent/agent.ts'),
      import('../../agent/kubelet-server.ts'),
      import('../../agent/pod-logs.ts'),
      import('../../client/index.ts'),
      import('../../controllers/local-path-cleaner.ts'),
      import('../../ingress/index.ts'),
      import('../../proxy/dns/node-dns.ts'),
      import('../../proxy/proxy.ts'),
    ]);
    this.#client = new HttpClient(conn, { maxSockets: 16 });
    const prefix = o.namePrefix;
    if (o.kubelet)
      this.#kubelet = await startKubeletServer({
        handlers: this.subresources,
        port: o.kubelet.port,
        host: o.kubelet.host,
        tls: o.kubelet.tls,
        log: o.log.child({ component: 'kubelet-server' }),
      });
    this.#agent = new Agent({
      client: this.#client,
      engine: this.engine,
      nodeName: o.nodeName ?? hostname().toLowerCase(),
      dataDir: join(o.dataDir, 'agent'),
      runDir: join(o.runDir, 'agent'),
      log: o.log.child({ component: 'agent' }),
      clusterDNS: o.clusterDNS,
      clusterDomain: o.clusterDomain,
      podCIDR: o.podCIDR,
      clusterCIDR: o.clusterCIDR,
      controlPlane: o.controlPlane,
      kubeletPort: this.#kubelet?.port,
      podLogDir: o.podLogDir ?? (prefix ? join(o.dataDir, 'pod-logs') : defaultPodLogDir),
      network: prefix
        ? { bridge: `${prefix}cni0`, netnsPrefix: `${prefix}k-`, networkName: `${prefix}-pods` }
        : undefined,
    });
    await this.#agent.start();
    // Cluster DNS at clusterDNS on this node (a dummy link of its own, removed by stop()).
    this.#dns = await NodeDns.start({
      informers: this.#agent.informers,
      clusterDNS: o.clusterDNS ?? '10.43.0.10',
      domain: o.clusterDomain,
      namePrefix: prefix,
      resolvConf: o.resolvConf,
      log: o.log.child({ component: 'dns' }),
    }).catch((err: unknown) => {
      o.log.error({ err: describeError(err) }, 'cluster dns not started: pods cannot resolve names');
      return undefined;
    });
    // The Service proxy: this node's nftables table, removed again by stop().
    this.#proxy = new ServiceProxy({
      informers: this.#agent.informers,
      client: this.#client,
      nodeName: o.nodeName ?? hostname().toLowerCase(),
      clusterCIDR: o.clusterCIDR,
      table: `${prefix ?? 'drover-'}proxy`,
      bridge: `${prefix ?? 'drover-'}cni0`,
      log: o.log.child({ component: 'proxy' }),
    });
    await this.#proxy.start();
    this.#ingress = await startNodeIngress({
      client: this.#client,
      informers: this.#agent.informers,
      nodeName: o.nodeName ?? hostname().toLowerCase(),
      controlPlane: o.controlPlane ?? false,
      dir: join(o.runDir, 'ingress'),
      httpPort: o.ingressHttpPort,
      httpsPort: o.ingressHttpsPort,
      log: o.log.child({ component: 'ingress' }),
    });
    // local-path volumes: where this node keeps them, and removing deleted ones' directories.
    this.#localPath = await startLocalPathNode({
      client: this.#client,
      informers: this.#agent.informers,
      nodeName: o.nodeName ?? hostname().toLowerCase(),
      dir: join(o.dataDir, 'storage'),
      log: o.log.child({ component: 'local-path' }),
    }).catch((err: unknown) => {
      o.log.error({ err: describeError(err) }, 'local-path node part not started');
      return undefined;
    });
    return this.#agent;
  }

  async stop(): Promise<void> {
    const dnsStopped = this.#dns?.stop();
    await dnsStopped?.catch((err: unknown) => this.#o.log.warn({ err: describeError(err) }, 'stopping dns'));
    await this.#proxy?.stop();
    await this.#ingress?.stop();
    await this.#localPath?.stop();
    await this.#agent?.stop();
    await this.#kubelet?.close();
    await this.#api?.close().catch(() => undefined);
    await this.engine.close();
    this.#client?.close();
  }
}
