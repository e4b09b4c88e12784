import type { Client, Clock, InformerFactory } from '../client/index.ts';
import { LeaderElector, realClock } from '../client/index.ts';
import { InvalidError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { ControllerContext, ControllerFactory } from './controller.ts';
import { runController } from './controller.ts';
import { newCronJobController } from './cronjob.ts';
import { newDaemonSetController } from './daemonset.ts';
import { newDeploymentController } from './deployment.ts';
import { newDisruptionController } from './disruption.ts';
import { newEndpointSliceController } from './endpoint-slice.ts';
import { newEndpointSliceMirroringController } from './endpoint-slice-mirroring.ts';
import { newEndpointsController } from './endpoints.ts';
import { newGarbageCollector } from './garbage-collector.ts';
import { newJobController } from './job.ts';
import { newLocalPathProvisioner } from './local-path-provisioner.ts';
import { newNamespaceController } from './namespace.ts';
import { type NodeIpamOptions, nodeIpamFactory } from './node-ipam.ts';
import { type NodeLifecycleOptions, nodeLifecycleFactory } from './node-lifecycle.ts';
import { newTaintEvictionController } from './node-lifecycle-eviction.ts';
import { newPersistentVolumeBinder } from './persistent-volume-binder.ts';
import { newReplicaSetController, newReplicationControllerController } from './replica-set.ts';
import { newResourceQuotaController } from './resource-quota.ts';
import { newServiceLbController } from './service-lb.ts';
import { newServiceAccountController } from './serviceaccount.ts';
import { newStatefulSetController } from './statefulset.ts';

/** Settings of the controllers that take any (the cluster CIDR, the node grace period). */
export interface ControllersConfig {
  nodeIpam?: NodeIpamOptions;
  nodeLifecycle?: NodeLifecycleOptions;
}

/** Every controller by name: the registry `--controllers` picks from. */
export function defaultControllers(config: ControllersConfig = {}): Map<string, ControllerFactory> {
  return new Map<string, ControllerFactory>([
    ['replicaset', newReplicaSetController],
    ['replicationcontroller', newReplicationControllerController],
    ['deployment', newDeploymentController],
    ['job', newJobController],
    ['cronjob', newCronJobController],
    ['garbagecollector', newGarbageCollector],
    ['namespace', newNamespaceController],
    ['serviceaccount', newServiceAccountController],
    ['statefulset', newStatefulSetController],
    ['persistentvolume-binder', newPersistentVolumeBinder],
    ['local-path-provisioner', newLocalPathProvisioner],
    ['resourcequota', newResourceQuotaController],
    ['endpointslice', newEndpointSliceController],
    ['endpoint', newEndpointsController],
    ['endpointslicemirroring', newEndpointSliceMirroringController],
    ['service-lb', newServiceLbController],
    ['daemonset', newDaemonSetController],
    ['nodelifecycle', nodeLifecycleFactory(config.nodeLifecycle)],
    ['taint-eviction-controller', newTaintEvictionController],
    ['nodeipam', nodeIpamFactory(config.nodeIpam)],
    ['disruption', newDisruptionController],
  ]);
}

export interface ControllerManagerOptions {
  client: Client;
  /** Shared with other components in the process; the manager starts it, the caller stops it. */
  informers: InformerFactory;
  log: Logger;
  clock?: Clock;
  /** Names to run (default: all); `-name` leaves one out of "all" (`['*', '-namespace']`). */
  controllers?: string[];
  /** Defaults to `defaultControllers(config)`. */
  registry?: Map<string, ControllerFactory>;
  /** Settings for the default registry. */
  config?: ControllersConfig;
  /**
   * Run only while holding a Lease (several servers, one active manager), as
   * kube-controller-manager does. Controllers start on becoming leader; on
   * losing the lease they stop and `onLeadershipLost` runs (upstream exits the
   * process there; the default logs an error).
   */
  leaderElection?: {
    identity: string;
    lease?: { namespace: string; name: string };
    onLeadershipLost?: () => void;
  };
}

export interface ControllerManager {
  /** The names of the controllers running. */
  readonly names: string[];
  /** Stops every controller (current reconciles finish) and resolves when they have. */
  stop(): Promise<void>;
}

/** Which registry names `wanted` selects (upstream kube-controller-manager's `--controllers` rules). */
export function selectControllers(registry: Map<string, unknown>, wanted: string[] = ['*']): string[] {
  const all = [...registry.keys()];
  for (const w of wanted) {
    const name = w.replace(/^-/, '');
    if (name !== '*' && !registry.has(name))
      throw new InvalidError(`starting controllers: unknown controller "${name}"`);
  }
  const off = new Set(wanted.filter((w) => w.startsWith('-')).map((w) => w.slice(1)));
  const on = wanted.includes('*') ? all : wanted.filter((w) => !w.startsWith('-'));
  return on.filter((n) => !off.has(n));
}

/**
 * Builds the chosen controllers over one shared informer factory, starts the
 * factory, and runs each controller's workers once its caches have synced.
 */
export function startControllerManager(opts: ControllerManagerOptions): ControllerManager {
  const registry = opts.registry ?? defaultControllers(opts.config);
  const names = selectControllers(registry, opts.controllers);
  const ctx: ControllerContext = {
    client: opts.client,
    informers: opts.informers,
    log: opts.log,
    clock: opts.clock ?? realClock,
  };
  const abort = new AbortController();
  let running: Promise<unknown>[] = [];
  const runAll = (signal: AbortSignal) => {
    const controllers = names.map((n) => {
      const factory = registry.get(n);
      if (!factory) throw new InvalidError(`starting controllers: unknown controller "${n}"`);
      return factory({ ...ctx, log: opts.log.child({ controller: n }) });
    });
    opts.informers.start();
    running = controllers.map((c) =>
      runController(ctx, c, signal).catch((err: unknown) =>
        opts.log.error({ err, controller: c.name }, 'controller failed'),
      ),
    );
    opts.log.info({ controllers: names }, 'controller manager started');
  };
  const le = opts.leaderElection;
  let election: Promise<void> | undefined;
  if (le) {
    let led = false;
    election = new LeaderElector({
      client: opts.client,
      lease: le.lease ?? { namespace: 'kube-system', name: 'kube-controller-manager' },
      identity: le.identity,
      clock: ctx.clock,
      log: opts.log,
      onStartedLeading: (signal) => {
        led = true;
        runAll(signal);
      },
      onStoppedLeading: () => {
        if (!led || abort.signal.aborted) return;
        if (le.onLeadershipLost) le.onLeadershipLost();
        else opts.log.error('controller manager lost its lease; controllers stopped');
      },
    }).run(abort.signal);
  } else runAll(abort.signal);
  return {
    names,
    async stop() {
      abort.abort();
      await election;
      await Promise.all(running);
    },
  };
}
