import type { Command } from 'commander';
import { defaultDataDir, defaultDockerSocket, defaultRunDir } from './engine.ts';

/**
 * `drover up`: the all-in-one machine on its embedded defaults, in the
 * foreground: the control plane (Kubernetes API over SQLite) and the container
 * engine (Docker API), with the local base images loaded. Both stop on
 * SIGINT/SIGTERM; containers keep running under conmon.
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
        const logLevel = cmd.optsWithGlobals().logLevel;
        const [{ exitWhenStopped, runEngineDaemon }, { runServer }] = await Promise.all([
          import('../daemons/engine.ts'),
          import('./server.ts'),
        ]);
        const images = new URL('../../../.images/busybox.tar', import.meta.url).pathname;
        const kubeconfig = `${opts.dataDir}/kubeconfig.yaml`;
        setTimeout(() => {
          process.stderr.write(`Kubernetes API: export KUBECONFIG=${kubeconfig}; kubectl get ns\n`);
        }, 1500).unref();
        // One part failing (a port in use, say) stops the whole machine: half a cluster helps nobody.
        const exitOnFailure = (err: unknown) => {
          process.stderr.write(`drover up: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(1);
        };
        const done = Promise.all([
          runServer(
            { dataDir: opts.dataDir, datastore: 'sqlite', httpsListen: opts.httpsListen, agent: false },
            logLevel,
          ).catch(exitOnFailure),
          runEngineDaemon({
            dataDir: opts.dataDir,
            runDir: opts.runDir,
            dockerSocket: opts.dockerSocket,
            runtime: 'crun',
            loadImage: [images],
            logLevel,
          }).catch(exitOnFailure),
        ]);
        await done;
        exitWhenStopped(done);
      },
    );
}
