import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client, Clock, InformerFactory } from '../client/index.ts';
import { LeaderElector, resources } from '../client/index.ts';
import { describeError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { defaultSchedulerName, Scheduler, type SchedulerOptions } from './scheduler.ts';

export interface StartSchedulerOptions {
  client: Client;
  /** Shared informers; the caller starts the factory (before or after this call). */
  informers: InformerFactory;
  log: Logger;
  schedulerName?: string;
  /**
   * Campaign for a Lease (kube-system/<schedulerName> by default) and schedule only
   * while leading, so several servers can run the scheduler. Off by default.
   */
  leaderElection?: boolean | { namespace?: string; name?: string; identity?: string };
  clock?: Clock;
  /** Passed through to the Scheduler (tests and benchmarks). */
  tuning?: Pick<
    SchedulerOptions,
    'percentageOfNodesToScore' | 'maxInFlightBindings' | 'onBound' | 'random' | 'recordScheduledEvents'
  >;
}

export interface RunningScheduler {
  /** Stops scheduling (releasing the lease if held) and waits for bindings in flight. */
  stop(): Promise<void>;
}

/** Whether the API serves scheduling.k8s.io PriorityClasses (else spec.priority is taken as is). */
async function servesPriorityClasses(client: Client, log: Logger): Promise<boolean> {
  try {
    await client.list(resources.priorityClasses, { limit: 1 });
    return true;
  } catch (err) {
    if (!(err instanceof NotFoundError))
      log.warn({ err: describeError(err) }, 'probing priorityclasses failed');
    return false;
  }
}

/**
 * Starts the scheduler: at once, or under leader election. Returns at once;
 * scheduling begins once the pod and node informers have synced.
 */
export function startScheduler(opts: StartSchedulerOptions): RunningScheduler {
  const abort = new AbortController();
  const log = opts.log.child({ component: 'scheduler' });
  const name = opts.schedulerName ?? defaultSchedulerName;
  const runOnce = async (signal: AbortSignal) => {
    const priorityClasses = await servesPriorityClasses(opts.client, log);
    const s = new Scheduler({ ...opts.tuning, ...opts, priorityClasses, schedulerName: name });
    await s.run(signal);
  };
  let done: Promise<void>;
  if (!opts.leaderElection) {
    done = runOnce(abort.signal).catch((err: unknown) =>
      log.error({ err: describeError(err) }, 'scheduler failed'),
    );
  } else {
    const le = typeof opts.leaderElection === 'object' ? opts.leaderElection : {};
    const identity = le.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    let leading: Promise<void> = Promise.resolve();
    const elector = new LeaderElector({
      client: opts.client,
      lease: { namespace: le.namespace ?? 'kube-system', name: le.name ?? name },
      identity,
      clock: opts.clock,
      log,
      onStartedLeading(signal) {
        leading = runOnce(signal).catch((err: unknown) =>
          log.error({ err: describeError(err) }, 'scheduler failed'),
        );
      },
    });
    done = (async () => {
      // Campaign again after losing the lease, until stopped.
      while (!abort.signal.aborted) {
        await elector.run(abort.signal);
        await leading;
      }
    })();
  }
  return {
    async stop() {
      abort.abort();
      await done;
    },
  };
}
