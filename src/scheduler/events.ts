import { randomBytes } from 'node:crypto';
import type { Client, Clock, Event, Pod } from '../client/index.ts';
import { realClock, resources } from '../client/index.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
}

/**
 * Writes core/v1 Events about pods, fire-and-forget. A repeat of the same
 * reason and message for the same pod bumps the existing event's count and
 * lastTimestamp instead of creating another (upstream's aggregation, simplified).
 */
export class EventRecorder {
  readonly #client: Client;
  readonly #component: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #seen = new Map<string, Seen>();

  constructor(opts: { client: Client; component: string; log: Logger; clock?: Clock }) {
    this.#client = opts.client;
    this.#component = opts.component;
    this.#log = opts.log;
    this.#clock = opts.clock ?? realClock;
  }

  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.#record(pod, type, reason, message).catch((err: unknown) =>
      this.#log.debug({ pod: pod.metadata.name, reason, err: describeError(err) }, 'recording event failed'),
    );
  }

  async #record(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const namespace = pod.metadata.namespace ?? 'default';
    const id = `${pod.metadata.uid}|${reason}|${message}`;
    const seen = this.#seen.get(id);
    if (seen) {
      seen.count++;
      await this.#client.patch(
        resources.events,
        seen.name,
        'merge',
        { count: seen.count, lastTimestamp: now },
        { namespace: seen.namespace },
      );
      return;
    }
    const name = `${pod.metadata.name}.${randomBytes(8).toString('hex')}`;
    if (this.#seen.size > 10_000) this.#seen.clear();
    this.#seen.set(id, { name, namespace, count: 1, first: now });
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
      reason,
      message,
      type,
      count: 1,
      source: { component: this.#component },
      firstTimestamp: now,
      lastTimestamp: now,
      reportingComponent: this.#component,
    };
    await this.#client.create(resources.events, ev);
  }
}
