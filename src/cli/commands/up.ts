import type { Command } from 'commander';
import { defaultDataDir, defaultDockerSocket, defaultRunDir } from './engine.ts';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start Drover on its embedded defaults in the foreground (what `make up` runs)')
    .option('--data-dir <dir>', 'persistent state', defaultDataDir)
    .option('--run-dir <dir>', 'runtime state (tmpfs)', defaultRunDir)
    .option('--docker-socket <path>', 'unix socket of the Docker Engine API', defaultDockerSocket)
    .action(async (opts: { dataDir: string; runDir: string; dockerSocket: string }, cmd: Command) => {
      const { runEngineDaemon } = await import('../daemons/engine.ts');
      const images = new URL('../../../.images/busybox.tar', import.meta.url).pathname;
      await runEngineDaemon({
        ...opts,
        runtime: 'crun',
        loadImage: [images],
        logLevel: cmd.optsWithGlobals().logLevel,
      });
    });
}
