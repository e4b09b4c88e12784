import type { Command } from 'commander';
import { InvalidError } from '../../lib/errors.ts';
import type { NodeAgentOptions } from '../daemons/agent.ts';

export interface AgentOptions {
  hollow?: boolean;
  count: string;
  serverKubeconfig?: string;
  namePrefix: string;
  cpu: string;
  memory: string;
  pods: string;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run a node agent; with --hollow, N simulated nodes that run no containers (kubemark)')
    .option('--hollow', 'register hollow nodes that report their pods Running without starting them')
    .option('--count <n>', 'how many hollow nodes', '1')
    .option('--server-kubeconfig <path>', 'kubeconfig of the API server to join')
    .option('--name-prefix <prefix>', 'hollow node names are <prefix><i>', 'hollow-node-')
    .option('--cpu <quantity>', 'CPU capacity of each hollow node', '4')
    .option('--memory <quantity>', 'memory capacity of each hollow node', '32Gi')
    .option('--pods <n>', 'pod capacity of each hollow node', '110')
    // The real node agent (src/agent/, src/cli/daemons/agent.ts).
    .option('--server <url>', 'API server to join')
    .option('--token <token>', "the server's join token (<server data dir>/token)")
    .option(
      '--kubelet-port <port>',
      'port the API server reaches this node on (logs, exec, port-forward)',
      '10250',
    )
    .option('--ca-file <path>', 'cluster CA certificate (PEM) to verify the server')
    .option('--node-name <name>', 'node name (default: the host name)')
    .option('--data-dir <dir>', 'engine and agent state', '/var/lib/drover')
    .option('--run-dir <dir>', 'runtime state (tmpfs)', '/run/drover')
    .option('--docker-socket <path>', 'serve the Docker API here ("" for none)', '/run/drover/docker.sock')
    .option('--pod-cidr <cidr>', "pod CIDR (default: the Node's, else a free /24 of 10.42.0.0/16)")
    .option('--cluster-dns <ip>', 'cluster DNS address written to pods', '10.43.0.10')
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .option(
      '--resolv-conf <path>',
      'host resolvers that cluster DNS forwards other names to',
      '/etc/resolv.conf',
    )
    .option('--control-plane', 'label the node node-role.kubernetes.io/control-plane')
    .option('--load-image <tar...>', 'load image archives at start')
    .option('--ingress-http-port <port>', 'node port of the ingress HTTP listener (0: none)', '80')
    .option('--pod-log-dir <dir>', 'pod log layout (default /var/log/pods)')
    .option('--ingress-https-port <port>', 'node port of the ingress HTTPS listener (0: none)', '443')
    .action(async (opts: AgentOptions & Record<string, unknown>, cmd: Command) => {
      if (!opts.hollow) {
        const { runNodeAgent } = await import('../daemons/agent.ts');
        await runNodeAgent({
          ...(opts as unknown as NodeAgentOptions),
          logLevel: cmd.optsWithGlobals().logLevel,
        });
        return;
      }
      await runHollowAgent(opts, cmd.optsWithGlobals().logLevel);
    });
}

/** Runs hollow nodes until SIGINT/SIGTERM. */
export async function runHollowAgent(opts: AgentOptions, logLevel = 'info'): Promise<void> {
  if (!opts.hollow) throw new InvalidError('starting agent: only --hollow is available in this build');
  if (!opts.serverKubeconfig)
    throw new InvalidError('starting hollow agent: --server-kubeconfig is required');
  const count = Number(opts.count);
  if (!Number.isInteger(count) || count < 1)
    throw new InvalidError(`starting hollow agent: bad --count ${opts.count}`);
  const [{ createLogger }, client, { HollowNodes }] = await Promise.all([
    import('../../lib/logger.ts'),
    import('../../client/index.ts'),
    import('../../agent/hollow/hollow-nodes.ts'),
  ]);
  const log = createLogger(logLevel as Parameters<typeof createLogger>[0]).child({
    component: 'hollow-agent',
  });
  const http = new client.HttpClient(await client.loadKubeconfig(opts.serverKubeconfig), { maxSockets: 16 });
  const informers = new client.InformerFactory(http, { log });
  const abort = new AbortController();
  const nodes = new HollowNodes({
    client: http,
    informers,
    log,
    count,
    prefix: opts.namePrefix,
    capacity: { cpu: opts.cpu, memory: opts.memory, pods: Number(opts.pods) },
  });
  // Listen for the signals before the nodes exist: a SIGTERM that arrives while
  // start() is still finishing must stop us cleanly, not kill the process.
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  informers.start(abort.signal);
  await nodes.start();
  await signalled;
  log.info('stopping hollow nodes');
  await nodes.stop();
  abort.abort();
  await informers.stop();
  http.close();
}
