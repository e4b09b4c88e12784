import { createReadStream } from 'node:fs';
import { createDockerApiServer } from '../../dockerapi/server.ts';
import { Engine } from '../../engine/engine.ts';
import { describeError } from '../../lib/errors.ts';
import { createLogger, type LogLevel } from '../../lib/logger.ts';
import type { EngineDaemonOptions } from '../commands/engine.ts';

/**
 * `drover engine`: the engine library behind the Docker Engine API. Stopping
 * the daemon (SIGTERM/SIGINT) leaves containers running under conmon; the
 * next start re-adopts them.
 */
export async function runEngineDaemon(opts: EngineDaemonOptions): Promise<void> {
  const log = createLogger((opts.logLevel ?? 'info') as LogLevel);
  if (process.getuid?.() !== 0) {
    throw new Error('the engine needs root (namespaces, cgroups, mounts): run it with sudo');
  }
  const engine = new Engine({
    dataDir: opts.dataDir,
    runDir: opts.runDir,
    log,
    runtime: opts.runtime,
    namePrefix: opts.namePrefix,
  });
  await engine.init();
  for (const tar of opts.loadImage ?? []) await loadIfMissing(engine, tar, log);
  const api = createDockerApiServer({ engine, log });
  await api.listen(opts.dockerSocket);
  if (opts.tcp) {
    const [host = '127.0.0.1', port = '2375'] = opts.tcp.includes(':')
      ? opts.tcp.split(':')
      : ['127.0.0.1', opts.tcp];
    await api.listen({ host, port: Number(port) });
  }
  log.info({ socket: opts.dockerSocket }, 'engine listening');
  process.stderr.write(
    `\nDrover engine is up. Point the clients at it:\n` +
      `  export DOCKER_HOST=unix://${opts.dockerSocket}\n` +
      `  drover run --rm busybox echo hello     # or: docker run --rm busybox echo hello\n\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'engine stopping; containers keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await api.close().catch((err: unknown) => log.warn({ err: describeError(err) }, 'closing the API failed'));
  await engine.close();
}

/**
 * Ends the daemon process once both daemons have shut down: watchers and
 * timers of idle parts must not keep a stopped daemon alive.
 */
export function exitWhenStopped(done: Promise<unknown>): void {
  done.then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

async function loadIfMissing(
  engine: Engine,
  tar: string,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  try {
    const { loaded } = await engine.loadImages(createReadStream(tar));
    log.info({ tar, loaded }, 'images loaded');
  } catch (err) {
    log.warn({ tar, err: describeError(err) }, 'loading image archive failed');
  }
}
