import { readFile } from 'node:fs/promises';
import { type Connection, loadKubeconfig } from '../../client/index.ts';
import { InvalidError } from '../../lib/errors.ts';
import { createLogger, type LogLevel } from '../../lib/logger.ts';
import { port } from './engine.ts';
import { LocalNode } from './local-node.ts';

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
}

/**
 * `drover agent` (not hollow): the engine, its Docker API (so `docker ps` on
 * the node shows pod containers) and the node agent, joined to a server.
 * Stopping leaves pods running; the next start re-adopts them.
 */
export async function runNodeAgent(opts: NodeAgentOptions): Promise<void> {
  const log = createLogger((opts.logLevel ?? 'info') as LogLevel);
  const conn = await connection(opts);
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
  });
  await node.startAgent(conn);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log.info('agent stopping; pods keep running');
  await node.stop();
}

async function connection(opts: NodeAgentOptions): Promise<Connection> {
  if (opts.serverKubeconfig) return loadKubeconfig(opts.serverKubeconfig);
  if (!opts.server || !opts.token) {
    throw new InvalidError(
      'starting agent: give --server URL and --token TOKEN (or --server-kubeconfig PATH)',
    );
  }
  const ca = opts.caFile ? await readFile(opts.caFile, 'utf8') : undefined;
  // Without the cluster CA the server cannot be verified; k3s pins it through the token's hash (not yet here).
  return {
    server: opts.server,
    token: opts.token,
    ca,
    insecureSkipTlsVerify: ca === undefined,
    userAgent: 'drover-agent',
  };
}
