import type { Client, KubeObject } from '../client/index.ts';
import { EventRecorder as ClientEventRecorder } from '../client/index.ts';
import type { Logger } from '../lib/logger.ts';
import type { ControllerContext } from './controller.ts';

/**
 * Writes core/v1 Events about an object (what `kubectl describe` shows), e.g.
 * `ScalingReplicaSet: Scaled up replica set web-5d8 from 0 to 3`, through the
 * client's EventRecorder (aggregation, combining, spam filter). Best effort:
 * a failed write is logged, never returned to the reconcile.
 */
export class EventRecorder {
  readonly #rec: ClientEventRecorder;

  constructor(opts: { client: Client; component: string; log: Logger; now: () => number }) {
    this.#rec = new ClientEventRecorder({
      client: opts.client,
      component: opts.component,
      log: opts.log,
      // Only now() is read: the recorder never waits.
      clock: { now: opts.now, after: () => () => {} },
    });
  }

  /** A controller's recorder: its client, log and clock, under `component` (e.g. `deployment-controller`). */
  static forController(ctx: ControllerContext, component: string): EventRecorder {
    return new EventRecorder({ client: ctx.client, component, log: ctx.log, now: () => ctx.clock.now() });
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#rec.event(obj, type, reason, message);
  }

  /** Resolves when every queued event has been written (or failed). */
  flush(): Promise<void> {
    return this.#rec.flush();
  }
}
