import type { KubeObject, Pod } from '../client/index.ts';
import { isPodReady } from './pod-status.ts';

/**
 * What the Endpoints and EndpointSlice controllers share: which Services
 * select pods, which pods count as endpoints, their conditions and the ports
 * a Service's targetPorts resolve to on each pod (upstream's
 * endpointslice/util and podutil.FindPort).
 */

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    clusterIP?: string;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
    [key: string]: unknown;
  };
}

/** A port of an endpoint: the Service port's name and protocol with the number it resolved to. */
export interface EndpointPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/**
 * The Service's selector when the endpoint controllers manage its endpoints:
 * selector-less Services (endpoints written by hand, `kubernetes`, `kube-dns`)
 * and ExternalName Services get none, as upstream.
 */
export function managedSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return undefined;
  if (svc.spec?.type === 'ExternalName') return undefined;
  return sel;
}

export function selectorMatches(
  sel: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  for (const [k, v] of Object.entries(sel)) if (labels?.[k] !== v) return false;
  return true;
}

/** Informer index names (shared by the endpoint controllers: the same functions under the same names). */
export const labelPairIndex = 'endpoints/label-pair';
export const selectorPairIndex = 'endpoints/selector-pair';

/** Index: an object under `ns/key=value` for each of its labels. */
export const byLabelPair = (o: KubeObject): string[] =>
  Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${o.metadata.namespace ?? ''}/${k}=${v}`);

/** Index: a Service under `ns/key=value` for each pair of its managed selector. */
export const bySelectorPair = (svc: Service): string[] =>
  Object.entries(managedSelector(svc) ?? {}).map(([k, v]) => `${svc.metadata.namespace ?? ''}/${k}=${v}`);

interface Indexed<T> {
  byIndex(name: string, value: string): T[];
}

/**
 * The pods `svc` selects, from a store indexed by `byLabelPair`: the
 * candidates filed under the selector's rarest pair, then the full match
 * (a namespace scan per sync would be O(pods) for every Service).
 */
export function selectedPods(pods: Indexed<Pod>, svc: Service): Pod[] {
  const sel = managedSelector(svc);
  if (!sel) return [];
  let best: Pod[] | undefined;
  for (const [k, v] of Object.entries(sel)) {
    const c = pods.byIndex(labelPairIndex, `${svc.metadata.namespace ?? ''}/${k}=${v}`);
    if (!best || c.length < best.length) best = c;
    if (best.length === 0) return [];
  }
  return (best ?? []).filter((p) => selectorMatches(sel, p.metadata.labels));
}

/** Keys (`ns/name`) of the Services selecting `pod` (or `old`, its previous state), from a store indexed by `bySelectorPair`. */
export function servicesForPod(services: Indexed<Service>, pod: Pod, old?: Pod): string[] {
  const out = new Set<string>();
  for (const p of old ? [pod, old] : [pod]) {
    for (const pair of byLabelPair(p)) {
      for (const svc of services.byIndex(selectorPairIndex, pair)) {
        const sel = managedSelector(svc);
        if (sel && selectorMatches(sel, p.metadata.labels))
          out.add(`${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`);
      }
    }
  }
  return [...out];
}

/** The pod's IPv4 address, if it has one. */
export function podIPv4(pod: Pod): string | undefined {
  const ips = [
    pod.status?.podIP,
    ...((pod.status?.podIPs as { ip?: string }[] | undefined) ?? []).map((p) => p.ip),
  ];
  return ips.find((ip): ip is string => typeof ip === 'string' && ip !== '' && !ip.includes(':'));
}

/**
 * Upstream's ShouldPodBeInEndpoints: a pod with an address that has not
 * terminated; pods being deleted count only when `includeTerminating`.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!podIPv4(pod)) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

export interface EndpointConditions {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * serving = the pod is Ready; terminating = it is being deleted; ready =
 * serving and not terminating, or always with publishNotReadyAddresses.
 */
export function endpointConditions(svc: Service, pod: Pod): EndpointConditions {
  const serving = isPodReady(pod);
  const terminating = Boolean(pod.metadata.deletionTimestamp);
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  return { ready, serving, terminating };
}

/**
 * The container port a Service port's targetPort names on `pod` (upstream's
 * FindPort): a number is used as is, a name is looked up among the pod's
 * containers (and restartable init containers) with the same protocol.
 * Undefined when the name resolves to nothing on this pod.
 */
export function resolveTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The Service's ports as they resolve on `pod`, in the Service's order (unresolvable ones left out). */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(pod, sp);
    if (port === undefined) continue;
    out.push({
      name: sp.name ?? '',
      port,
      protocol: sp.protocol ?? 'TCP',
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out;
}

/** A key equal for equal port sets whatever their order. */
export function portsKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify(
    [...ports]
      .map((p) => [p.name, p.port, p.protocol, p.appProtocol ?? ''])
      .sort((a, b) => String(a).localeCompare(String(b))),
  );
}

/** The hostname an endpoint carries: the pod's spec.hostname when its subdomain is the Service's name. */
export function endpointHostname(svc: Service, pod: Pod): string | undefined {
  const spec = pod.spec as { hostname?: string; subdomain?: string } | undefined;
  if (
    spec?.hostname &&
    spec.subdomain === svc.metadata.name &&
    pod.metadata.namespace === svc.metadata.namespace
  )
    return spec.hostname;
  return undefined;
}

/** Headless: clusterIP None (upstream labels such Services' slices and Endpoints). */
export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** A pod's `targetRef`. */
export function podRef(pod: Pod): { kind: 'Pod'; namespace: string; name: string; uid: string } {
  return {
    kind: 'Pod',
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
  };
}
