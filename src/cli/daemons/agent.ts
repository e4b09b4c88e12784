import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../agent/agent.ts';
import { type Connection, HttpClient, loadKubeconfig } from '../../client/index.ts';
import { createDockerApiServer } from '../../dockerapi/server.ts';
import { Engine } from '../../engine/engine.ts';
import { describeError, InvalidError } from '../../lib/errors.ts';
import { createLogger, type LogLevel } from '../../lib/logger.ts';

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
  controlPlane?: boolean;
  loadImage?: string[];
  namePrefix?: string;
  logLevel?: string;
}

/**
 * `drover agent` (not hollow): the engine, its Docker API (so `docker ps` on
 * the node shows pod containers) and the node agent, joined to a server.
 * Stopping leaves pods running; the next start re-adopts them.
 */
export async function runNodeAgent(opts: NodeAgentOptions): Promise<void> {
  const log = createLogger((opts.logLevel ?? 'info') as LogLevel);
  if (process.getuid?.() !== 0)
    throw new Error('the agent needs root (namespaces, cgroups, mounts): run it with sudo');
  const conn = await connection(opts);
  const client = new HttpClient(conn, { maxSockets: 16 });
  const engine = new Engine({ dataDir: opts.dataDir, runDir: opts.runDir, log, namePrefix: opts.namePrefix });
  await engine.init();
  for (const tar of opts.loadImage ?? []) {
    await engine
      .loadImages(createReadStream(tar))
      .catch((err: unknown) => log.warn({ tar, err: describeError(err) }, 'loading image archive failed'));
  }
  const api = opts.dockerSocket ? createDockerApiServer({ engine, log }) : undefined;
  await api?.listen(opts.dockerSocket);
  const agent = new Agent({
    client,
    engine,
    nodeName: opts.nodeName ?? hostname().toLowerCase(),
    dataDir: join(opts.dataDir, 'agent'),
    log: log.child({ component: 'agent' }),
    clusterDNS: opts.clusterDns,
    podCIDR: opts.podCidr,
    controlPlane: opts.controlPlane,
    network: opts.namePrefix
      ? {
          bridge: `${opts.namePrefix}cni0`,
          netnsPrefix: `${opts.namePrefix}-`,
          networkName: `${opts.namePrefix}-pods`,
        }
      : undefined,
  });
  await agent.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log.info('agent stopping; pods keep running');
  await agent.stop();
  await api?.close().catch(() => undefined);
  await engine.close();
  client.close();
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
