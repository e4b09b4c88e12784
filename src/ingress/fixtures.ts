/**
 * Test fixtures: hand-made Ingresses, Services and EndpointSlices, and a
 * ClusterState over them (tests only; the controller reads informers).
 */
import type { KubeObject } from '../client/index.ts';
import type { ClusterState } from './config.ts';
import {
  controllerName,
  defaultClassAnnotation,
  type EndpointSlice,
  type Ingress,
  type Secret,
  type Service,
} from './model.ts';

export const droverClass: KubeObject = {
  metadata: { name: 'drover', annotations: { [defaultClassAnnotation]: 'true' } },
  spec: { controller: controllerName },
};
export const otherClass: KubeObject = {
  metadata: { name: 'other' },
  spec: { controller: 'example.com/other' },
};

export function service(name: string, port = 80, portName?: string, ns = 'default'): Service {
  return {
    metadata: { name, namespace: ns },
    spec: { ports: [{ port, ...(portName ? { name: portName } : {}), targetPort: 8080 }] },
  };
}

/** A slice of `svc` whose endpoints listen on `port` at `ips` (ready unless listed in notReady). */
export function slice(
  svc: string,
  port: number,
  ips: string[],
  o: { portName?: string; notReady?: string[]; ns?: string } = {},
): EndpointSlice {
  return {
    metadata: {
      name: `${svc}-abc`,
      namespace: o.ns ?? 'default',
      labels: { 'kubernetes.io/service-name': svc },
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: !o.notReady?.includes(ip) } })),
    ports: [{ name: o.portName ?? '', port, protocol: 'TCP' }],
  };
}

export interface RuleSpec {
  host?: string;
  paths: [path: string | undefined, pathType: string, service: string, port?: number][];
}

export function ingress(
  name: string,
  rules: RuleSpec[],
  o: {
    created?: string;
    className?: string;
    defaultBackend?: string;
    tls?: { hosts?: string[]; secretName: string }[];
  } = {},
): Ingress {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      ...(o.defaultBackend
        ? { defaultBackend: { service: { name: o.defaultBackend, port: { number: 80 } } } }
        : {}),
      ...(o.tls ? { tls: o.tls } : {}),
      rules: rules.map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        http: {
          paths: r.paths.map(([path, pathType, svc, port]) => ({
            ...(path !== undefined ? { path } : {}),
            pathType,
            backend: { service: { name: svc, port: { number: port ?? 80 } } },
          })),
        },
      })),
    },
  };
}

export function state(o: {
  ingresses: Ingress[];
  services?: Service[];
  slices?: EndpointSlice[];
  secrets?: Secret[];
  classes?: KubeObject[];
}): ClusterState {
  const key = (x: KubeObject) => `${x.metadata.namespace}/${x.metadata.name}`;
  return {
    ingresses: o.ingresses,
    classes: o.classes ?? [droverClass, otherClass],
    service: (k) => o.services?.find((s) => key(s) === k),
    secret: (k) => o.secrets?.find((s) => key(s) === k),
    slices: (ns, svc) =>
      (o.slices ?? []).filter(
        (s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc,
      ),
  };
}
