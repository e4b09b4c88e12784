/**
 * Test fixtures for the endpoint controllers' table tests: a Service `web`
 * selecting app=web, and pods with the few fields endpoints look at.
 */
import type { Pod } from '../client/index.ts';
import { start } from './fake-cluster.ts';
import type { Service } from './service-pods.ts';

const deleting = new Date(start).toISOString().replace(/\.\d+Z$/, 'Z');

export const serviceFixture = (spec: Service['spec'] = {}, labels?: Record<string, string>): Service => ({
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', ...(labels ? { labels } : {}) },
  spec: {
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    ...spec,
  },
});

export interface PodFixtureOptions {
  /** null: no pod IP yet; default 10.42.0.<digits of the name>. */
  ip?: string | null;
  ready?: boolean;
  phase?: string;
  terminating?: boolean;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number }[];
  hostname?: string;
  subdomain?: string;
}

export const podFixture = (name: string, o: PodFixtureOptions = {}): Pod => ({
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    labels: o.labels ?? { app: 'web' },
    ...(o.terminating ? { deletionTimestamp: deleting, finalizers: ['hold'] } : {}),
  },
  spec: {
    nodeName: 'n1',
    containers: [{ name: 'c', ports: o.ports ?? [] }],
    ...(o.hostname ? { hostname: o.hostname } : {}),
    ...(o.subdomain ? { subdomain: o.subdomain } : {}),
  },
  status: {
    phase: (o.phase ?? 'Running') as 'Running',
    ...(o.ip === null ? {} : { podIP: o.ip ?? `10.42.0.${name.replace(/\D/g, '') || '9'}` }),
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
  },
});
