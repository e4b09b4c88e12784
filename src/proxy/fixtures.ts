/**
 * Small builders of Services and EndpointSlices for the proxy's tests and
 * benchmarks (not used at run time).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Endpoint, EndpointSlice, Service } from './types.ts';

export function service(name: string, spec: Service['spec'] = {}, namespace = 'default'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
  };
}

export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export function endpoint(e: EndpointSpec): Endpoint {
  const conditions: Endpoint['conditions'] = {};
  if (e.ready !== undefined) conditions.ready = e.ready;
  if (e.serving !== undefined) conditions.serving = e.serving;
  if (e.terminating !== undefined) conditions.terminating = e.terminating;
  return { addresses: [e.ip], conditions, ...(e.node ? { nodeName: e.node } : {}) };
}

export function slice(
  svc: string,
  endpoints: EndpointSpec[],
  opts: { name?: string; namespace?: string; ports?: EndpointSlice['ports'] } = {},
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${svc}-abc`,
      namespace: opts.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': svc },
    },
    addressType: 'IPv4',
    ports: opts.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map(endpoint),
  };
}

/** A network namespace of its own for tests that load real rules; `remove()` deletes it. */
export function testNetns(word: string): { name: string; remove(): void } {
  const name = `drv-proxy-${word}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return { name, remove: () => spawnSync('ip', ['netns', 'del', name]) && undefined };
}

/** Whether this process may create network namespaces and load rules (root). */
export const canUseNetns = process.getuid?.() === 0;
