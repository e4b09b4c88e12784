/**
 * From a Service and its EndpointSlices to one ServicePortModel per port:
 * which backends take traffic, which of them are on this node, and the
 * options the rules depend on. Pure, so rule generation is testable without
 * a cluster.
 */
import type {
  Backend,
  Endpoint,
  EndpointSlice,
  Protocol,
  Service,
  ServicePort,
  ServicePortModel,
} from './types.ts';

/** kube-system/kube-dns: every node's DNS server answers on that address itself. */
const skipped = new Set(['kube-system/kube-dns']);

export const defaultAffinitySeconds = 10_800;

const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(s: string | undefined): s is string {
  const m = s ? ipv4.exec(s) : null;
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}

/** Whether the proxy writes rules for `svc` at all (ExternalName and headless Services get none). */
export function isProxied(svc: Service): boolean {
  const spec = svc.spec ?? {};
  const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
  if (skipped.has(key) || spec.type === 'ExternalName') return false;
  return isIPv4(spec.clusterIP);
}

const isPort = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/** Upstream's range for the ClientIP timeout; anything else falls back to the default. */
function affinitySeconds(t: unknown): number {
  return Number.isInteger(t) && (t as number) >= 1 && (t as number) <= 86_400
    ? (t as number)
    : defaultAffinitySeconds;
}

/**
 * Names go into nft scripts as identifiers: anything but letters, digits and `/_.-` becomes `_`.
 * The API already restricts names and namespaces; port names it does not, and one odd name
 * must not make every transaction fail.
 */
export function nftName(s: string): string {
  return s.replace(/[^a-zA-Z0-9/_.-]/g, '_');
}

function protocolOf(p: string | undefined): Protocol | undefined {
  const v = (p ?? 'TCP').toLowerCase();
  return v === 'tcp' || v === 'udp' || v === 'sctp' ? v : undefined;
}

interface Candidate extends Backend {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

function candidateOf(ep: Endpoint, port: number, nodeName: string): Candidate | undefined {
  const ip = ep.addresses[0];
  if (!isIPv4(ip)) return undefined;
  const c = ep.conditions ?? {};
  // Unset conditions mean: ready unless said otherwise; serving like ready; not terminating.
  const ready = c.ready ?? true;
  return {
    ip,
    port,
    isLocal: !!ep.nodeName && ep.nodeName === nodeName,
    ready,
    serving: c.serving ?? ready,
    terminating: c.terminating ?? false,
  };
}

/** Ready backends; when none is ready, those still serving while terminating (upstream's fallback). */
function usable(all: Candidate[]): Backend[] {
  let chosen = all.filter((c) => c.ready);
  if (chosen.length === 0) chosen = all.filter((c) => c.serving && c.terminating);
  return chosen
    .map(({ ip, port, isLocal }) => ({ ip, port, isLocal }))
    .sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

function candidatesFor(sp: ServicePort, proto: Protocol, slices: EndpointSlice[], nodeName: string) {
  const seen = new Map<string, Candidate>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === (sp.name ?? '') && protocolOf(p.protocol) === proto,
    );
    if (!port || !isPort(port.port)) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = candidateOf(ep, port.port, nodeName);
      if (!c) continue;
      const key = `${c.ip}:${c.port}`;
      // The same address in two slices (during a move between them): the readier one counts.
      const prev = seen.get(key);
      if (!prev || (!prev.ready && c.ready)) seen.set(key, c);
    }
  }
  return [...seen.values()];
}

/** The models for every port of `svc` (empty when the Service is not proxied). */
export function servicePortModels(
  svc: Service,
  slices: EndpointSlice[],
  nodeName: string,
): ServicePortModel[] {
  if (!isProxied(svc)) return [];
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const affinity =
    spec.sessionAffinity === 'ClientIP'
      ? affinitySeconds(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds)
      : undefined;
  const out: ServicePortModel[] = [];
  for (const sp of spec.ports ?? []) {
    const protocol = protocolOf(sp.protocol);
    if (!protocol || !isPort(sp.port)) continue;
    const all = candidatesFor(sp, protocol, slices, nodeName);
    out.push({
      id: nftName(`${svc.metadata.namespace}/${svc.metadata.name}/${protocol}/${sp.name || sp.port}`),
      clusterIP: spec.clusterIP,
      protocol,
      port: sp.port,
      nodePort:
        (type === 'NodePort' || type === 'LoadBalancer') && isPort(sp.nodePort) ? sp.nodePort : undefined,
      loadBalancer: type === 'LoadBalancer',
      externalIPs: (spec.externalIPs ?? []).filter(isIPv4),
      affinitySeconds: affinity,
      externalLocal: spec.externalTrafficPolicy === 'Local',
      internalLocal: spec.internalTrafficPolicy === 'Local',
      backends: usable(all),
      localBackends: usable(all.filter((c) => c.isLocal)),
    });
  }
  return out;
}
