import { type Command, Option } from 'commander';

export const defaultDataDir = '/var/lib/drover';
export const defaultRunDir = '/run/drover';
export const defaultDockerSocket = '/run/drover/docker.sock';

export function registerEngine(program: Command): void {
  program
    .command('engine')
    .description('run the container engine daemon (Docker Engine API on a unix socket)')
    .option('--data-dir <dir>', 'persistent state: images, containers, volumes, networks', defaultDataDir)
    .option('--run-dir <dir>', 'runtime state (tmpfs)', defaultRunDir)
    .option('--docker-socket <path>', 'unix socket of the Docker Engine API', defaultDockerSocket)
    .option('--tcp <host:port>', 'also serve the API on TCP (loopback unless you say otherwise)')
    .option('--runtime <name>', 'OCI runtime: crun or runc', 'crun')
    .option('--load-image <tar...>', 'load image archives at start when their tags are missing')
    .addOption(
      new Option(
        '--name-prefix <prefix>',
        'prefix for bridges, netns and the nftables table (several engines on one host)',
      ).hideHelp(),
    )
    .action(async (opts: EngineDaemonOptions, cmd: Command) => {
      const { exitWhenStopped, runEngineDaemon } = await import('../daemons/engine.ts');
      const done = runEngineDaemon({ ...opts, logLevel: cmd.optsWithGlobals().logLevel });
      await done;
      exitWhenStopped(done);
    });
}

export interface EngineDaemonOptions {
  dataDir: string;
  runDir: string;
  dockerSocket: string;
  tcp?: string;
  runtime: string;
  loadImage?: string[];
  namePrefix?: string;
  logLevel?: string;
}
