import { HttpClient, InformerFactory, loadKubeconfig } from '../../client/index.ts';
import type { ControllersConfig } from '../../controllers/manager.ts';
import type { Logger } from '../../lib/logger.ts';

export interface ControlLoopsOptions {
  /** The admin kubeconfig the server wrote: the loops are ordinary API clients. */
  kubeconfig: string;
  log: Logger;
  scheduler: boolean;
  controllers: boolean;
  /** Controller settings (cluster CIDR, node grace period). */
  config?: ControllersConfig;
}

/**
 * The scheduler and the controller manager, run beside the API server in the
 * same process but reaching it only through the HTTPS client, as they would
 * from another machine (DESIGN.md: scheduler and controllers talk to the
 * cluster through client/ only).
 */
export async function startControlLoops(o: ControlLoopsOptions): Promise<{ stop(): Promise<void> }> {
  const client = new HttpClient(await loadKubeconfig(o.kubeconfig));
  const informers = new InformerFactory(client, { log: o.log });
  const stops: (() => Promise<void>)[] = [];
  if (o.controllers) {
    const { startControllerManager } = await import('../../controllers/manager.ts');
    const manager = startControllerManager({
      client,
      informers,
      log: o.log.child({ component: 'controllers' }),
      config: o.config,
    });
    stops.push(() => manager.stop());
  }
  if (o.scheduler) {
    const { startScheduler } = await import('../../scheduler/start.ts');
    const scheduler = startScheduler({ client, informers, log: o.log, leaderElection: true });
    stops.push(() => scheduler.stop());
  }
  const abort = new AbortController();
  informers.start(abort.signal);
  return {
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
      abort.abort();
      await informers.stop();
      client.close();
    },
  };
}
