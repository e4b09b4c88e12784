import { InvalidError } from '../../lib/errors.ts';
import { createLogger, type Logger, type LogLevel } from '../../lib/logger.ts';
import type { EngineDaemonOptions } from '../commands/engine.ts';
import type { ServerOptions } from '../commands/server.ts';
import { LocalNode } from './local-node.ts';

/**
 * `drover engine`: this machine's engine behind the Docker Engine API, no
 * cluster. Stopping the daemon (SIGTERM/SIGINT) leaves containers running
 * under conmon; the next start re-adopts them.
 */
export async function runEngineDaemon(opts: EngineDaemonOptions): Promise<void> {
  const log = createLogger((opts.logLevel ?? 'info') as LogLevel);
  const node = await LocalNode.create({
    dataDir: opts.dataDir,
    runDir: opts.runDir,
    log,
    dockerSocket: opts.dockerSocket,
    loadImage: opts.loadImage,
    namePrefix: opts.namePrefix,
    runtime: opts.runtime,
    engineOnly: true,
  });
  if (opts.tcp) {
    const [host = '127.0.0.1', port = '2375'] = opts.tcp.includes(':')
      ? opts.tcp.split(':')
      : ['127.0.0.1', opts.tcp];
    await node.listenDockerApi({ host, port: Number(port) });
  }
  log.info({ socket: opts.dockerSocket }, 'engine listening');
  printDockerHelp(opts.dockerSocket);
  await untilSignalled(log);
  await node.stop();
}

/**
 * The all-in-one machine (`drover server` with its agent, `drover up`): this
 * node's engine, Docker API and agent, and the control plane, in one process.
 * The node comes first so the API server can hand it logs/exec/attach.
 */
export async function runAllInOne(o: {
  server: ServerOptions;
  runDir: string;
  dockerSocket?: string;
  loadImage?: string[];
  logLevel?: string;
}): Promise<void> {
  const level = (o.logLevel ?? 'info') as LogLevel;
  const log = createLogger(level);
  const { startServer } = await import('../commands/server.ts');
  const { loadKubeconfig } = await import('../../client/index.ts');
  // Listen before starting: a SIGTERM during start-up then stops us cleanly.
  const signalled = untilSignalled(log);
  const node = await LocalNode.create({
    dataDir: o.server.dataDir,
    runDir: o.runDir,
    log,
    dockerSocket: o.dockerSocket,
    loadImage: o.loadImage,
    controlPlane: true,
    nodeName: o.server.nodeName,
    namePrefix: o.server.namePrefix,
    clusterDNS: o.server.clusterDns,
    clusterDomain: o.server.clusterDomain,
    resolvConf: o.server.resolvConf,
    clusterCIDR: o.server.clusterCidr,
    ingressHttpPort: port(o.server.ingressHttpPort, 80),
    ingressHttpsPort: port(o.server.ingressHttpsPort, 443),
    podLogDir: o.server.podLogDir,
  });
  const server = await startServer({ ...o.server, subresources: node.subresources }, level);
  await node.startAgent(await loadKubeconfig(server.kubeconfigPath));
  process.stderr.write(
    `\nDrover is up: a one-node cluster.\n` +
      `  export KUBECONFIG=${o.server.writeKubeconfig ?? server.kubeconfigPath}; kubectl get nodes\n`,
  );
  if (o.dockerSocket) printDockerHelp(o.dockerSocket);
  await signalled;
  // A pod worker in the middle of a graceful termination would hold the stop
  // for its whole grace period; containers survive us anyway, so bound it.
  await withDeadline(node.stop(), 10_000, () =>
    log.warn('the node did not stop within 10 s; exiting anyway'),
  );
  await withDeadline(server.stop(), 10_000, () =>
    log.warn('the server did not stop within 10 s; exiting anyway'),
  );
}

/** A port flag's value (commander hands strings); `fallback` when unset. */
export function port(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidError(`reading a port flag: invalid port ${JSON.stringify(value)}`);
  return n;
}

function withDeadline(work: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

function printDockerHelp(socket: string): void {
  process.stderr.write(
    `  export DOCKER_HOST=unix://${socket}\n` +
      `  drover run --rm busybox echo hello     # or: docker run --rm busybox echo hello\n\n`,
  );
}

function untilSignalled(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping; containers keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * Ends the daemon process once it has shut down: watchers and timers of idle
 * parts must not keep a stopped daemon alive.
 */
export function exitWhenStopped(done: Promise<unknown>): void {
  done.then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
