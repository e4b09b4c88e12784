import type { Client, Event, KubeObject } from '../client/index.ts';
import { resources } from '../client/index.ts';
import type { Logger } from '../lib/logger.ts';
import { timestamp } from './controller.ts';

/**
 * Writes core/v1 Events about an object (what `kubectl describe` shows), e.g.
 * `ScalingReplicaSet: Scaled up replica set web-5d8 from 0 to 3`. Best effort:
 * a failed write is logged, never returned to the reconcile.
 */
export class EventRecorder {
  readonly #client: Client;
  readonly #component: string;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(opts: { client: Client; component: string; log: Logger; now: () => number }) {
    this.#client = opts.client;
    this.#component = opts.component;
    this.#log = opts.log;
    this.#now = opts.now;
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const at = timestamp(this.#now());
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${obj.metadata.name ?? ''}.${this.#now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
        namespace: obj.metadata.namespace ?? 'default',
      },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
      },
      reason,
      message,
      type,
      count: 1,
      source: { component: this.#component },
      firstTimestamp: at,
      lastTimestamp: at,
    };
    this.#client.create(resources.events, ev).catch((err: unknown) => {
      this.#log.debug({ err, reason }, 'recording event failed');
    });
  }
}
