/**
 * Builds the routing model from the cluster's Ingresses, Services,
 * EndpointSlices and Secrets. Pure: no I/O, deterministic output, and bad
 * input (unknown Services or ports, malformed paths, invalid certificates)
 * becomes a `problem` plus a 503 route, never an exception. Conflicts are
 * settled as ingress-nginx does: the oldest Ingress wins a host+path.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../client/index.ts';
import { isOurs } from './classes.ts';
import type {
  Backend,
  Certificate,
  EndpointSlice,
  Ingress,
  Model,
  PathMatch,
  Route,
  Secret,
  Server,
  Service,
  Upstream,
} from './model.ts';
import { pemFromSecret } from './tls.ts';

export interface ClusterState {
  ingresses: readonly Ingress[];
  classes: readonly KubeObject[];
  /** Lookups by "namespace/name". */
  service(key: string): Service | undefined;
  secret(key: string): Secret | undefined;
  /** The EndpointSlices of one Service (label kubernetes.io/service-name). */
  slices(namespace: string, service: string): readonly EndpointSlice[];
}

export const ingressKey = (i: KubeObject): string => `${i.metadata.namespace ?? ''}/${i.metadata.name ?? ''}`;

function byAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return ingressKey(a) < ingressKey(b) ? -1 : 1;
}

const hostRe = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Characters a path may hold in the generated configuration (no quotes, braces, spaces, controls). */
const safePath = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/** Normalises an Ingress path, or says why it cannot be routed (the API rejects these too). */
export function routePath(
  path: string | undefined,
  pathType: string | undefined,
): { path: string; match: PathMatch } | { error: string } {
  if (pathType !== 'Exact' && pathType !== 'Prefix' && pathType !== 'ImplementationSpecific')
    return { error: `unsupported pathType ${JSON.stringify(pathType ?? null)}` };
  let p = path ?? '';
  if (p === '' && pathType === 'ImplementationSpecific') p = '/';
  if (!p.startsWith('/')) return { error: `path ${JSON.stringify(p)} must be an absolute path` };
  if (!safePath.test(p) || /\/\.\.?(\/|$)|\/\//.test(p))
    return { error: `path ${JSON.stringify(p)} holds characters or segments that cannot be routed` };
  if (pathType === 'Exact') return { path: p, match: 'Exact' };
  // Prefix matching is element-wise: a trailing slash does not change it.
  return { path: p.length > 1 ? p.replace(/\/+$/, '') : p, match: 'Prefix' };
}

/** The ready endpoints of a Service port as "ip:port", sorted; an error string when it cannot be resolved. */
export function resolveBackend(
  state: ClusterState,
  namespace: string,
  backend: Backend | undefined,
): { service: string; endpoints: string[] } | { error: string } {
  const ref = backend?.service;
  if (!ref?.name) return { error: 'backend names no service (resource backends are not supported)' };
  const svcKey = `${namespace}/${ref.name}`;
  const svc = state.service(svcKey);
  const portText = ref.port?.name ?? String(ref.port?.number ?? '');
  const label = `${svcKey}:${portText}`;
  if (!svc) return { error: `service ${svcKey} not found` };
  if (svc.spec?.type === 'ExternalName')
    return { error: `service ${svcKey} is ExternalName (not supported)` };
  const sp = (svc.spec?.ports ?? []).find((p) =>
    ref.port?.name !== undefined ? p.name === ref.port.name : p.port === ref.port?.number,
  );
  if (!sp) return { error: `service ${svcKey} has no port ${portText || '(none given)'}` };
  const portName = sp.name ?? '';
  const endpoints = new Set<string>();
  for (const slice of state.slices(namespace, ref.name)) {
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? [])
        endpoints.add(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
    }
  }
  return { service: label, endpoints: [...endpoints].sort() };
}

/** A configuration-safe name; the hash keeps "a-b/c" and "a/b-c" apart. */
function upstreamName(service: string): string {
  const hash = createHash('sha256').update(service).digest('hex').slice(0, 8);
  return `up_${service.replace(/[^A-Za-z0-9]+/g, '_')}_${hash}`;
}

class Builder {
  readonly servers = new Map<string, Server>();
  readonly upstreams = new Map<string, Upstream>();
  readonly certificates: Record<string, Certificate> = {};
  readonly problems: Model['problems'] = [];
  readonly #state: ClusterState;

  constructor(state: ClusterState) {
    this.#state = state;
  }

  server(host: string): Server {
    let s = this.servers.get(host);
    if (!s) {
      s = { host, routes: [] };
      this.servers.set(host, s);
    }
    return s;
  }

  /** A route to `backend` (upstream undefined when it has no ready endpoint). */
  route(ing: Ingress, backend: Backend | undefined, path: string, match: PathMatch): Route {
    const source = ingressKey(ing);
    const r = resolveBackend(this.#state, ing.metadata.namespace ?? '', backend);
    if ('error' in r) {
      this.problems.push({ ingress: source, message: r.error });
      return { path, match, upstream: undefined, source };
    }
    if (r.endpoints.length === 0) return { path, match, upstream: undefined, source };
    const name = upstreamName(r.service);
    this.upstreams.set(name, { name, service: r.service, endpoints: r.endpoints });
    return { path, match, upstream: name, source };
  }

  certificate(ing: Ingress, secretName: string): string | undefined {
    const key = `${ing.metadata.namespace ?? ''}/${secretName}`;
    const file = key.replace(/[^A-Za-z0-9]+/g, '_');
    if (this.certificates[file]) return file;
    const secret = this.#state.secret(key);
    const r = secret ? pemFromSecret(secret) : { error: 'not found' };
    if ('error' in r) {
      this.problems.push({ ingress: ingressKey(ing), message: `tls secret ${key}: ${r.error}` });
      return undefined;
    }
    this.certificates[file] = { secret: key, pem: r.pem };
    return file;
  }

  add(ing: Ingress): void {
    const spec = ing.spec ?? {};
    const source = ingressKey(ing);
    const hostsOf = (host: string | undefined) => (host ?? '').toLowerCase();
    for (const tls of spec.tls ?? []) {
      if (!tls.secretName) continue;
      const cert = this.certificate(ing, tls.secretName);
      for (const h of tls.hosts?.length ? tls.hosts : ['']) {
        const s = this.server(hostsOf(h));
        if (cert && !s.certificate) s.certificate = cert;
      }
    }
    const fallback = spec.defaultBackend ? this.route(ing, spec.defaultBackend, '/', 'Prefix') : undefined;
    const catchAll = this.server('');
    if (fallback && !catchAll.fallback) catchAll.fallback = fallback;
    for (const rule of spec.rules ?? []) {
      const host = hostsOf(rule.host);
      if (host && !hostRe.test(host)) {
        this.problems.push({ ingress: source, message: `host ${JSON.stringify(host)} is not a DNS name` });
        continue;
      }
      const server = this.server(host);
      if (fallback && !server.fallback) server.fallback = fallback;
      for (const p of rule.http?.paths ?? []) {
        const rp = routePath(p.path, p.pathType);
        if ('error' in rp) {
          this.problems.push({ ingress: source, message: rp.error });
          continue;
        }
        if (server.routes.some((r) => r.path === rp.path && r.match === rp.match)) continue;
        server.routes.push(this.route(ing, p.backend, rp.path, rp.match));
      }
    }
  }
}

/** The routing model for the Ingresses of our class. */
export function buildModel(state: ClusterState): Model {
  const b = new Builder(state);
  const ours = state.ingresses.filter((i) => isOurs(i, state.classes) && !i.metadata.deletionTimestamp);
  for (const ing of [...ours].sort(byAge)) b.add(ing);
  const servers = [...b.servers.values()].sort((x, y) => (x.host < y.host ? -1 : x.host > y.host ? 1 : 0));
  for (const s of servers) {
    // Longest path first; an Exact route before a Prefix route of the same path.
    s.routes.sort(
      (x, y) =>
        y.path.length - x.path.length || x.path.localeCompare(y.path) || (x.match === 'Exact' ? -1 : 1),
    );
  }
  const upstreams = [...b.upstreams.values()].sort((x, y) => x.name.localeCompare(y.name));
  return { servers, upstreams, certificates: b.certificates, problems: b.problems };
}
