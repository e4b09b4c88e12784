import { hostname } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { SubresourceHandlers } from '../../apiserver/extensions.ts';

export interface ServerOptions {
  dataDir: string;
  datastore: 'sqlite' | 'etcd' | 'memory';
  etcdEndpoints?: string;
  httpsListen: string;
  writeKubeconfig?: string;
  tokenFile?: string;
  agent: boolean;
  tlsSan?: string[];
  /** Run the scheduler and the controller manager in this process (k3s's --disable-* flags turn them off). */
  disableScheduler?: boolean;
  disableControllers?: boolean;
  /** Set by callers that run the garbage collector with the server (not a flag). */
  garbageCollection?: boolean;
  /** Service cluster IP range; the `kubernetes` Service takes its first address. */
  serviceCidr?: string;
  /** Pod network of the cluster (a /24 per node). */
  clusterCidr?: string;
  /** Cluster DNS address, served by every node (from the service range). */
  clusterDns?: string;
  /** Cluster domain (default cluster.local) and the host resolvers cluster DNS forwards other names to. */
  clusterDomain?: string;
  resolvConf?: string;
  /** Where pods and agents reach the API (the `kubernetes` Service's endpoint); default: the default-route IPv4. */
  advertiseAddress?: string;
  /** This machine as a node (all-in-one): name, and a prefix for its kernel objects (tests run several). */
  nodeName?: string;
  namePrefix?: string;
  /** Image archives loaded into this node's engine at start (all-in-one). */
  loadImage?: string[];
  /** Ingress listeners of this node (all-in-one; flags give strings; 0: none). */
  ingressHttpPort?: string | number;
  ingressHttpsPort?: string | number;
  /** Pod log links (default /var/log/pods; `<data dir>/pod-logs` with --name-prefix). */
  podLogDir?: string;
  /** How long a node's Lease may go unrenewed before it is NotReady ("40s" or seconds). */
  nodeMonitorGracePeriod?: string;
  /** tolerationSeconds new pods get for the not-ready / unreachable NoExecute taints (default 300). */
  defaultNotReadyTolerationSeconds?: string;
  defaultUnreachableTolerationSeconds?: string;
  /** Set by callers that serve pods/log, pods/exec... (the agent); not a flag. */
  subresources?: SubresourceHandlers;
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the control plane: the Kubernetes API server over SQLite or etcd')
    .option('--data-dir <dir>', 'state: datastore, certificates, kubeconfig', '/var/lib/drover')
    .option('--datastore <kind>', 'sqlite (embedded), etcd, or memory (tests)', 'sqlite')
    .option('--etcd-endpoints <urls>', 'comma-separated etcd client URLs (with --datastore etcd)')
    .option('--https-listen <addr>', 'address of the Kubernetes API', '127.0.0.1:6443')
    .option('--write-kubeconfig <path>', 'also write the admin kubeconfig here')
    .option('--token-file <path>', 'static bearer tokens: token,user,uid,"group1,group2" per line')
    .option('--tls-san <name...>', 'extra names or IPs for the serving certificate')
    .option('--no-agent', 'run the control plane only (no node agent on this machine)')
    .option('--disable-scheduler', 'do not run the scheduler in this server')
    .option('--disable-controllers', 'do not run the controller manager in this server')
    .option('--service-cidr <cidr>', 'cluster IPs of Services', '10.43.0.0/16')
    .option('--cluster-cidr <cidr>', 'pod addresses (a /24 per node)', '10.42.0.0/16')
    .option('--cluster-dns <ip>', 'cluster DNS address (in the service range)', '10.43.0.10')
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .option(
      '--resolv-conf <path>',
      'host resolvers that cluster DNS forwards other names to',
      '/etc/resolv.conf',
    )
    .option(
      '--advertise-address <ip>',
      "address the cluster reaches the API at (also listened on); default: the default route's IPv4",
    )
    .option('--node-name <name>', "this machine's node name (default: the hostname)")
    .option('--name-prefix <prefix>', "prefix for this node's kernel objects and containers")
    .option('--load-image <tar...>', 'image archives to load into this node at start')
    .option('--run-dir <dir>', 'runtime state of this node (tmpfs)', '/run/drover')
    .option('--docker-socket <path>', "this node's Docker API socket", '/run/drover/docker.sock')
    .option('--ingress-http-port <port>', "this node's ingress HTTP port (0: none)", '80')
    .option('--pod-log-dir <dir>', "this node's pod log layout (default /var/log/pods)")
    .option('--ingress-https-port <port>', "this node's ingress HTTPS port (0: none)", '443')
    .option('--node-monitor-grace-period <duration>', 'a node silent this long goes NotReady', '40s')
    .option('--default-not-ready-toleration-seconds <n>', 'pods tolerate a not-ready node this long', '300')
    .option(
      '--default-unreachable-toleration-seconds <n>',
      'pods tolerate an unreachable node this long',
      '300',
    )
    .action(async (opts: ServerOptions & { runDir: string; dockerSocket: string }, cmd: Command) => {
      const logLevel = cmd.optsWithGlobals().logLevel;
      if (!opts.agent) {
        await runServer(opts, logLevel);
        return;
      }
      // All-in-one: this machine is also a node (engine, Docker API, agent).
      const { exitWhenStopped, runAllInOne } = await import('../daemons/engine.ts');
      const done = runAllInOne({
        server: opts,
        runDir: opts.runDir,
        dockerSocket: opts.dockerSocket,
        loadImage: opts.loadImage,
        logLevel,
      });
      await done;
      exitWhenStopped(done);
    });
}

/** Runs the control plane until SIGINT/SIGTERM. */
export async function runServer(opts: ServerOptions, logLevel = 'info'): Promise<void> {
  const running = await startServer(opts, logLevel);
  await untilSignalled();
  await running.stop();
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export interface RunningServer {
  /** The admin kubeconfig written for this server. */
  kubeconfigPath: string;
  url: string;
  stop(): Promise<void>;
}

/** Wires storage, PKI, the API server and the control loops; returns once they serve. */
export async function startServer(opts: ServerOptions, logLevel = 'info'): Promise<RunningServer> {
  const [host = '127.0.0.1', portText = '6443'] = splitHostPort(opts.httpsListen);
  // Loaded here, not at the top: every `drover` command registers this file.
  const [{ defaultAdvertiseAddress }, { firstServiceIp }] = await Promise.all([
    import('../../apiserver/advertise.ts'),
    import('../../apiserver/bootstrap.ts'),
  ]);
  const advertiseAddress = opts.advertiseAddress ?? defaultAdvertiseAddress();
  // Certificates (generated in a child process on first start) and the store
  // open while the server's modules load. In-cluster clients reach the API as
  // the `kubernetes` Service's IP and names, or at the advertise address.
  const sans = [host, advertiseAddress, firstServiceIp(opts.serviceCidr ?? '10.43.0.0/16')];
  const pkiReady = import('../../apiserver/pki.ts').then((m) =>
    m.loadOrCreatePki(path.join(opts.dataDir, 'tls'), [...sans, ...(opts.tlsSan ?? [])]),
  );
  const storeReady = openStore(opts);
  const [{ createLogger }, { ApiServer }, { adminKubeconfig, writeKubeconfig }, { TokenFile }] =
    await Promise.all([
      import('../../lib/logger.ts'),
      import('../../apiserver/server.ts'),
      import('../../apiserver/kubeconfig.ts'),
      import('../../apiserver/auth.ts'),
    ]);
  const log = createLogger(logLevel as Parameters<typeof createLogger>[0]).child({ component: 'server' });
  const [pki, store] = await Promise.all([pkiReady, storeReady]);
  // Nodes join with this token (`drover agent --server URL --token T`), see apiserver/node-join.ts.
  const { loadOrCreateJoinToken } = await import('../../apiserver/node-join.ts');
  const joinToken = await loadOrCreateJoinToken(opts.dataDir, pki);
  const server = new ApiServer({
    store,
    pki,
    host,
    port: Number(portText),
    log,
    tokens: opts.tokenFile ? await TokenFile.load(opts.tokenFile) : undefined,
    // The in-process garbage collector takes foreground and orphan deletions.
    garbageCollection: opts.garbageCollection ?? !opts.disableControllers,
    subresources: opts.subresources,
    // The all-in-one node's pods are served in-process; other nodes' through their kubelet port.
    localNode: opts.subresources ? (opts.nodeName ?? hostname().toLowerCase()) : undefined,
    joinToken,
    serviceCidr: opts.serviceCidr,
    clusterDNS: opts.clusterDns,
    advertiseAddress,
    defaultTolerationSeconds: {
      notReadySeconds: optionalNumber(opts.defaultNotReadyTolerationSeconds),
      unreachableSeconds: optionalNumber(opts.defaultUnreachableTolerationSeconds),
    },
  });
  await server.start();
  const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const port = new URL(server.url).port;
  const kubeconfig = adminKubeconfig(
    pki,
    `https://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${port}`,
  );
  const kubeconfigPath = path.join(opts.dataDir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfigPath, kubeconfig);
  if (opts.writeKubeconfig) await writeKubeconfig(opts.writeKubeconfig, kubeconfig);
  log.info(
    { kubeconfig: opts.writeKubeconfig ?? kubeconfigPath, url: server.url, datastore: opts.datastore },
    'control plane ready',
  );
  process.stderr.write(
    `Join a node: drover agent --server https://${advertiseAddress}:${port} --token $(cat ${path.join(opts.dataDir, 'token')})\n`,
  );
  const loops =
    opts.disableScheduler && opts.disableControllers
      ? undefined
      : await import('../daemons/control-loops.ts').then((m) =>
          m.startControlLoops({
            kubeconfig: kubeconfigPath,
            log,
            scheduler: !opts.disableScheduler,
            controllers: !opts.disableControllers,
            config: {
              nodeIpam: { clusterCIDR: opts.clusterCidr },
              nodeLifecycle: { gracePeriodMs: durationMs(opts.nodeMonitorGracePeriod) },
            },
          }),
        );
  return {
    kubeconfigPath,
    url: server.url,
    async stop() {
      log.info('shutting down');
      await loops?.stop();
      await server.stop();
      await store.close();
    },
  };
}

const optionalNumber = (v: string | undefined) => (v === undefined ? undefined : Number(v));

/** "40s", "2m", "500ms" or plain seconds, in ms (undefined when unset). */
function durationMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`invalid duration "${v}": use e.g. 40s`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function splitHostPort(addr: string): [string, string] {
  const m = /^\[(.*)\]:(\d+)$/.exec(addr) ?? /^(.*):(\d+)$/.exec(addr);
  if (!m) return [addr, '6443'];
  return [m[1] ?? '127.0.0.1', m[2] ?? '6443'];
}

async function openStore(opts: ServerOptions) {
  switch (opts.datastore) {
    case 'sqlite': {
      const { SqliteStore } = await import('../../storage/sqlite/store.ts');
      return new SqliteStore({ path: path.join(opts.dataDir, 'db', 'state.db') });
    }
    case 'etcd': {
      if (!opts.etcdEndpoints) throw new Error('--datastore etcd needs --etcd-endpoints');
      const { EtcdStore } = await import('../../storage/etcd/store.ts');
      return new EtcdStore({ endpoints: opts.etcdEndpoints.split(',').map((s) => s.trim()) });
    }
    case 'memory': {
      const { MemoryStore } = await import('../../storage/memory.ts');
      return new MemoryStore();
    }
    default:
      throw new Error(`unknown datastore "${String(opts.datastore)}": use sqlite or etcd`);
  }
}
