import type { Command } from 'commander';
import { defaultDataDir, defaultDockerSocket, defaultRunDir } from './engine.ts';

/**
 * `drover up`: the all-in-one cluster on its embedded defaults, in the
 * foreground: the control plane over SQLite and this machine as its node
 * (engine, Docker API, agent), with the local base images loaded.
 */
export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'start the all-in-one cluster on its embedded defaults in the foreground (what `make up` runs)',
    )
    .option('--data-dir <dir>', 'persistent state', defaultDataDir)
    .option('--run-dir <dir>', 'runtime state (tmpfs)', defaultRunDir)
    .option('--docker-socket <path>', 'unix socket of the Docker Engine API', defaultDockerSocket)
    .option('--https-listen <addr>', 'address of the Kubernetes API', '127.0.0.1:6443')
    .action(
      async (
        opts: { dataDir: string; runDir: string; dockerSocket: string; httpsListen: string },
        cmd: Command,
      ) => {
        const { exitWhenStopped, runAllInOne } = await import('../daemons/engine.ts');
        const images = new URL('../../../.images/busybox.tar', import.meta.url).pathname;
        const done = runAllInOne({
          server: { dataDir: opts.dataDir, datastore: 'sqlite', httpsListen: opts.httpsListen, agent: true },
          runDir: opts.runDir,
          dockerSocket: opts.dockerSocket,
          loadImage: [images],
          logLevel: cmd.optsWithGlobals().logLevel,
        });
        await done.catch((err: unknown) => {
          process.stderr.write(`drover up: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(1);
        });
        exitWhenStopped(done);
      },
    );
}
