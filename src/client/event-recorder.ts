import { describeError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Client } from './client.ts';
import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';
import { type CorrelatorOptions, EventCorrelator } from './event-correlator.ts';
import type { Event } from './objects.ts';
import { resources } from './resources.ts';
import type { KubeObject } from './types.ts';

export interface EventRecorderOptions {
  client: Client;
  /** Shown as the event's source, e.g. `default-scheduler`, `deployment-controller`, `kubelet`. */
  component: string;
  host?: string;
  clock?: Clock;
  log?: Logger;
  /** Distinct events remembered for aggregation (default 4096; oldest forgotten first). */
  cacheSize?: number;
  /** Spam filter and similar-event limits (client-go's defaults). */
  correlator?: CorrelatorOptions;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

/**
 * Records core/v1 Events about objects, the way client-go's recorder does
 * (through `EventCorrelator`): the same (object, type, reason, message, source)
 * seen again bumps `count` and `lastTimestamp` on the existing Event with a
 * patch instead of creating another; more than 10 similar events (other
 * messages) within 10 minutes become one "(combined from similar events)"
 * Event; a token bucket per source and object (burst 25, then one per 5
 * minutes) drops floods before they reach the API. Writes happen in the
 * background, in order; failures are logged, never thrown, so recording an
 * event can never fail a reconcile.
 */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #correlator: EventCorrelator;
  readonly #seen = new Map<string, Seen>();
  #tail: Promise<void> = Promise.resolve();
  #dropped = 0;

  constructor(opts: EventRecorderOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#correlator = new EventCorrelator(() => this.#clock.now(), {
      cacheSize: opts.cacheSize,
      ...opts.correlator,
    });
  }

  /** Events the spam filter dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues an event about `obj`; `reason` is UpperCamelCase, `message` a sentence for humans. */
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const m = obj.metadata;
    const draft: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {},
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: m.namespace,
        name: m.name,
        uid: m.uid,
        ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      source: { component: this.#o.component, ...(this.#o.host ? { host: this.#o.host } : {}) },
    };
    const c = this.#correlator.correlate(draft);
    if (c.skip) {
      this.#dropped++;
      this.#o.log?.debug({ reason, object: m.name }, 'event dropped by the spam filter');
      return;
    }
    this.#tail = this.#tail.then(() => this.#write(obj, c.key, c.event));
  }

  /** Resolves when every queued event has been written (or failed). */
  flush(): Promise<void> {
    return this.#tail;
  }

  async #write(obj: KubeObject, key: string, draft: Event): Promise<void> {
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const seen = this.#seen.get(key);
    try {
      if (seen) {
        seen.count++;
        this.#seen.delete(key);
        this.#seen.set(key, seen);
        try {
          await this.#o.client.patch(
            resources.events,
            seen.name,
            'merge',
            { count: seen.count, lastTimestamp: now, message: draft.message },
            { namespace: seen.namespace },
          );
          return;
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      const m = obj.metadata;
      const namespace = m.namespace || 'default';
      const name = `${m.name ?? 'unknown'}.${this.#clock.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
      const ev: Event = {
        ...draft,
        metadata: { name, namespace },
        count: seen?.count ?? 1,
        firstTimestamp: now,
        lastTimestamp: now,
        reportingComponent: this.#o.component,
      };
      await this.#o.client.create(resources.events, ev);
      this.#seen.set(key, { name, namespace, count: ev.count ?? 1 });
      const limit = this.#o.cacheSize ?? 4096;
      while (this.#seen.size > limit) {
        const oldest = this.#seen.keys().next().value;
        if (oldest === undefined) break;
        this.#seen.delete(oldest);
      }
    } catch (err) {
      this.#o.log?.warn(
        { reason: draft.reason, object: obj.metadata.name, err: describeError(err) },
        'recording an event failed',
      );
    }
  }
}
