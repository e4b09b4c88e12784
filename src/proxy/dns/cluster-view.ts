/**
 * What cluster DNS reads from the cluster: Services, EndpointSlices and Pods,
 * straight from informer caches, with indexes for the lookups a query makes
 * (a Service's slices, an address's owners). Nothing is copied into tables
 * of our own, so an answer is always as fresh as the cache.
 */
import type { Informer, InformerFactory, KubeObject, Store } from '../../client/index.ts';
import { resources } from '../../client/index.ts';

/** The Service fields DNS reads. */
export interface Service extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    publishNotReadyAddresses?: boolean;
    ports?: { name?: string; protocol?: string; port: number }[];
  };
}

/** The EndpointSlice fields DNS reads. */
export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: {
    addresses: string[];
    hostname?: string;
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  }[];
  ports?: { name?: string; protocol?: string; port?: number }[] | null;
}

/** The Pod fields DNS reads. */
export interface Pod extends KubeObject {
  spec?: { hostNetwork?: boolean };
  status?: { podIP?: string; podIPs?: { ip: string }[] };
}

export const serviceNameLabel = 'kubernetes.io/service-name';

/** `namespace/name` of the Service a slice belongs to ('' for none). */
const sliceService = (s: EndpointSlice): string[] => {
  const svc = s.metadata.labels?.[serviceNameLabel];
  return svc ? [`${s.metadata.namespace ?? ''}/${svc}`] : [];
};
const serviceIPs = (s: Service): string[] => {
  const ips = s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== '' && ip !== 'None');
};
const sliceAddresses = (s: EndpointSlice): string[] => (s.endpoints ?? []).flatMap((e) => e.addresses);
const podIPs = (p: Pod): string[] => {
  if (p.spec?.hostNetwork) return [];
  const ips = (p.status?.podIPs ?? []).map((i) => i.ip);
  if (ips.length === 0 && p.status?.podIP) ips.push(p.status.podIP);
  return ips;
};

/** Index names; prefixed because the informers are shared with other components. */
export const indexers = {
  services: { 'dns:clusterIP': serviceIPs },
  slices: { 'dns:service': sliceService, 'dns:address': sliceAddresses },
  pods: { 'dns:podIP': podIPs },
} as const;

/** The stores a view reads, each carrying the indexes in `indexers`. */
export interface ClusterStores {
  services: Store<Service>;
  slices: Store<EndpointSlice>;
  pods: Store<Pod>;
}

export interface ClusterViewOptions {
  /** Whether the stores have had their first list (default: always). */
  synced?: () => boolean;
  /**
   * A number that changes whenever any object in the stores changes; lets
   * callers cache what they computed from the view. Without it, nothing
   * may be cached.
   */
  generation?: () => number;
}

/** Read access to what DNS answers from. Objects are shared and frozen. */
export class ClusterView {
  readonly #s: ClusterStores;
  readonly #o: ClusterViewOptions;

  constructor(stores: ClusterStores, o: ClusterViewOptions = {}) {
    this.#s = stores;
    this.#o = o;
  }

  /** Informers for the three kinds from `factory` (started with it), indexed for DNS. */
  static fromInformers(factory: InformerFactory): { view: ClusterView; informers: Informer<KubeObject>[] } {
    const services = factory.informerFor<Service>(resources.services, {}, indexers.services);
    const slices = factory.informerFor<EndpointSlice>(resources.endpointSlices, {}, indexers.slices);
    const pods = factory.informerFor<Pod>(resources.pods, {}, indexers.pods);
    const informers = [services, slices, pods] as unknown as Informer<KubeObject>[];
    let generation = 0;
    const bump = () => {
      generation++;
    };
    for (const inf of informers)
      inf.addHandler({ onAdd: bump, onUpdate: (a, b) => a !== b && bump(), onDelete: bump });
    const view = new ClusterView(
      { services: services.store, slices: slices.store, pods: pods.store },
      { synced: () => informers.every((i) => i.hasSynced()), generation: () => generation },
    );
    return { view, informers };
  }

  /** Whether every cache has had its first list (before that, absence proves nothing). */
  isSynced(): boolean {
    return this.#o.synced?.() ?? true;
  }

  /** Changes whenever the cluster's objects do; undefined when this view cannot tell. */
  generation(): number | undefined {
    return this.#o.generation?.();
  }

  service(namespace: string, name: string): Service | undefined {
    return this.#s.services.get(`${namespace}/${name}`);
  }

  hasServicesIn(namespace: string): boolean {
    return this.#s.services.byIndex('namespace', namespace).length > 0;
  }

  hasPodsIn(namespace: string): boolean {
    return this.#s.pods.byIndex('namespace', namespace).length > 0;
  }

  slicesOf(namespace: string, service: string): EndpointSlice[] {
    return this.#s.slices.byIndex('dns:service', `${namespace}/${service}`);
  }

  servicesByIP(ip: string): Service[] {
    return this.#s.services.byIndex('dns:clusterIP', ip);
  }

  slicesByAddress(ip: string): EndpointSlice[] {
    return this.#s.slices.byIndex('dns:address', ip);
  }

  podsByIP(ip: string): Pod[] {
    return this.#s.pods.byIndex('dns:podIP', ip);
  }
}

/** The cluster IPs of a Service (none for headless and ExternalName). */
export function clusterIPsOf(svc: Service): string[] {
  return serviceIPs(svc);
}

/** Headless: clusterIP None (DNS then answers with the endpoints' addresses). */
export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None' && svc.spec?.type !== 'ExternalName';
}
