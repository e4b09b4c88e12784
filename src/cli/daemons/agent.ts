import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadOrJoin } from '../../agent/join.ts';
import { hostIPv4 } from '../../agent/node.ts';
import { type Connection, loadKubeconfig } from '../../client/index.ts';
import { InvalidError } from '../../lib/errors.ts';
import { createLogger, type Logger, type LogLevel } from '../../lib/logger.ts';
import { port } from './engine.ts';
import { LocalNode, type LocalNodeOptions } from './local-node.ts';

export interface NodeAgentOptions {
  server?: string;
  token?: string;
  caFile?: string;
  /** Instead of --server/--token: a kubeconfig (e.g. the server's admin one on the same machine). */
  serverKubeconfig?: string;
  nodeName?: string;
  dataDir: string;
  runDir: string;
  /** Empty: no Docker API. */
  dockerSocket: string;
  podCidr?: string;
  clusterDns: string;
  clusterDomain?: string;
  resolvConf?: string;
  controlPlane?: boolean;
  loadImage?: string[];
  namePrefix?: string;
  logLevel?: string;
  /** Ingress listeners on this node (flags; default 80 and 443, 0: none). */
  ingressHttpPort?: string;
  ingressHttpsPort?: string;
  /** The kubelet port the API server reaches this node on (default 10250). */
  kubeletPort?: string;
  /** Pod log links (default /var/log/pods; `<data dir>/pod-logs` with --name-prefix). */
  podLogDir?: string;
}

/**
 * `drover agent` (not hollow): the engine, its Docker API (so `docker ps` on
 * the node shows pod containers) and the node agent, joined to a server.
 * Stopping leaves pods running; the next start re-adopts them.
 */
export async function runNodeAgent(opts: NodeAgentOptions): Promise<void> {
  const log = createLogger((opts.logLevel ?? 'info') as LogLevel);
  // Listen before starting: a SIGTERM during start-up then stops us cleanly.
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  const { conn, kubelet } = await connection(opts, log);
  const node = await LocalNode.create({
    dataDir: opts.dataDir,
    runDir: opts.runDir,
    log,
    dockerSocket: opts.dockerSocket || undefined,
    loadImage: opts.loadImage,
    namePrefix: opts.namePrefix,
    nodeName: opts.nodeName,
    clusterDNS: opts.clusterDns,
    clusterDomain: opts.clusterDomain,
    resolvConf: opts.resolvConf,
    podCIDR: opts.podCidr,
    controlPlane: opts.controlPlane,
    ingressHttpPort: port(opts.ingressHttpPort, 80),
    ingressHttpsPort: port(opts.ingressHttpsPort, 443),
    kubelet,
    podLogDir: opts.podLogDir,
  });
  await node.startAgent(conn);
  await signalled;
  log.info('agent stopping; pods keep running');
  await node.stop();
}

/**
 * How the agent reaches the API: a kubeconfig as given, or the node
 * certificate obtained once with the join token (agent/join.ts) and reused
 * from `<dataDir>/agent/pki` afterwards; then the node also serves its
 * kubelet port with the serving certificate that came with it.
 */
async function connection(
  opts: NodeAgentOptions,
  log: Logger,
): Promise<{ conn: Connection; kubelet?: LocalNodeOptions['kubelet'] }> {
  if (opts.serverKubeconfig) return { conn: await loadKubeconfig(opts.serverKubeconfig) };
  if (!opts.server || !opts.token) {
    throw new InvalidError(
      'starting agent: give --server URL and --token TOKEN (or --server-kubeconfig PATH)',
    );
  }
  const nodeName = opts.nodeName ?? hostname().toLowerCase();
  const creds = await loadOrJoin({
    server: opts.server,
    token: opts.token,
    nodeName,
    dir: join(opts.dataDir, 'agent', 'pki'),
    addresses: [hostIPv4(), '127.0.0.1', nodeName, hostname().toLowerCase()],
    ca: opts.caFile ? await readFile(opts.caFile, 'utf8') : undefined,
    log,
  });
  return {
    conn: {
      server: opts.server,
      ca: creds.ca,
      cert: creds.clientCert,
      key: creds.clientKey,
      userAgent: 'drover-agent',
    },
    kubelet: {
      port: port(opts.kubeletPort, 10250),
      tls: { cert: creds.servingCert, key: creds.servingKey, ca: creds.ca },
    },
  };
}
