/**
 * The shapes the ingress controller reads (only the fields it touches) and
 * the routing model it builds from them. The model is plain data: the nginx
 * configuration is rendered from it, and tests assert on it directly.
 */
import type { KubeObject, Resource } from '../client/index.ts';

export const ingressResource: Resource = {
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingresses',
  kind: 'Ingress',
  namespaced: true,
};

export const ingressClassResource: Resource = {
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingressclasses',
  kind: 'IngressClass',
  namespaced: false,
};

/** The controller name our IngressClasses carry in spec.controller. */
export const controllerName = 'drover.io/ingress';
/** The IngressClass the API server creates at bootstrap. */
export const defaultClassName = 'drover';
export const defaultClassAnnotation = 'ingressclass.kubernetes.io/is-default-class';
/** The pre-IngressClass way of naming a class, still honoured by ingress-nginx. */
export const legacyClassAnnotation = 'kubernetes.io/ingress.class';

export interface ServiceBackendRef {
  name: string;
  port?: { number?: number; name?: string };
}

export interface Backend {
  service?: ServiceBackendRef;
  resource?: unknown;
}

export interface IngressPath {
  path?: string;
  pathType?: string;
  backend: Backend;
}

export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: Backend;
  tls?: { hosts?: string[]; secretName?: string }[];
  rules?: { host?: string; http?: { paths?: IngressPath[] } }[];
}

export interface Ingress extends KubeObject {
  spec?: IngressSpec & Record<string, unknown>;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface Service extends KubeObject {
  spec?: { type?: string; ports?: ServicePort[]; clusterIP?: string } & Record<string, unknown>;
}

export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean; serving?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** Where an Ingress backend sends traffic: ready endpoint addresses ("ip:port"), round-robin. */
export interface Upstream {
  /** Stable, config-safe name derived from namespace, service and port. */
  name: string;
  /** "namespace/service:port" for logs and reports. */
  service: string;
  endpoints: string[];
}

export type PathMatch = 'Exact' | 'Prefix';

/** One path of one host: `path` is normalised (Prefix paths lose a trailing slash, "" is "/"). */
export interface Route {
  path: string;
  match: PathMatch;
  /** Upstream name, or undefined when the backend has no ready endpoint (503). */
  upstream: string | undefined;
  /** "namespace/ingress" that defined it (the oldest wins a conflict). */
  source: string;
}

/** A virtual host: an exact name, a one-label wildcard (`*.example.com`), or `""` for every host. */
export interface Server {
  host: string;
  routes: Route[];
  /** Where requests no route matches go (the Ingress's defaultBackend), else 404. */
  fallback?: Route;
  /** Certificate file key (see Model.certificates); undefined: the fallback certificate. */
  certificate?: string;
}

export interface Certificate {
  /** "namespace/secret" */
  secret: string;
  /** PEM: certificate chain then private key. */
  pem: string;
}

/** Everything the data path needs, in a deterministic order (equal inputs give equal models). */
export interface Model {
  servers: Server[];
  upstreams: Upstream[];
  certificates: Record<string, Certificate>;
  /** Problems found while building (bad references, invalid certificates): reported, never fatal. */
  problems: { ingress: string; message: string }[];
}
