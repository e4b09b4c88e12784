/**
 * A ClusterView over plain Stores with a small cluster in it, for tests and
 * the benchmark: Services of every type, a headless StatefulSet-style
 * Service with hostnames, and the pods behind them.
 */
import type { Answer } from 'dns-packet';
import { Store } from '../../client/index.ts';
import { ClusterView, type EndpointSlice, indexers, type Pod, type Service } from './cluster-view.ts';

export interface FakeCluster {
  view: ClusterView;
  services: Store<Service>;
  slices: Store<EndpointSlice>;
  pods: Store<Pod>;
}

export function service(ns: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

export function slice(
  ns: string,
  svc: string,
  endpoints: NonNullable<EndpointSlice['endpoints']>,
  ports: EndpointSlice['ports'] = [],
  name = `${svc}-abcde`,
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

export function pod(ns: string, name: string, ip: string, hostNetwork = false): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name },
    spec: { hostNetwork },
    status: { podIP: ip, podIPs: [{ ip }] },
  };
}

/**
 * An empty cluster; `synced` says whether the caches count as synced, and
 * `generation` (when given) lets answers be cached until it changes.
 */
export function emptyCluster(synced: () => boolean = () => true, generation?: () => number): FakeCluster {
  const services = new Store<Service>(indexers.services);
  const slices = new Store<EndpointSlice>(indexers.slices);
  const pods = new Store<Pod>(indexers.pods);
  return {
    view: new ClusterView({ services, slices, pods }, { synced, generation }),
    services,
    slices,
    pods,
  };
}

/**
 * default/kubernetes (10.43.0.1:443 https), default/web (ClusterIP 10.43.0.20,
 * ports http/80 and dns/53 UDP, two ready pods and one not ready),
 * default/db (headless, StatefulSet pods db-0 and db-1 with hostnames),
 * default/ext (ExternalName example.org), default/dual (IPv4 + IPv6).
 */
export function sampleCluster(): FakeCluster {
  const c = emptyCluster();
  c.services.set(
    service('default', 'kubernetes', {
      type: 'ClusterIP',
      clusterIP: '10.43.0.1',
      clusterIPs: ['10.43.0.1'],
      ports: [{ name: 'https', protocol: 'TCP', port: 443 }],
    }),
  );
  c.services.set(
    service('default', 'web', {
      type: 'ClusterIP',
      clusterIP: '10.43.0.20',
      clusterIPs: ['10.43.0.20'],
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { name: 'dns', protocol: 'UDP', port: 53 },
      ],
    }),
  );
  c.slices.set(
    slice(
      'default',
      'web',
      [
        { addresses: ['10.42.0.5'], conditions: { ready: true } },
        { addresses: ['10.42.0.6'], conditions: { ready: true } },
        { addresses: ['10.42.0.7'], conditions: { ready: false } },
      ],
      [
        { name: 'http', protocol: 'TCP', port: 8080 },
        { name: 'dns', protocol: 'UDP', port: 5353 },
      ],
    ),
  );
  c.services.set(
    service('default', 'db', {
      clusterIP: 'None',
      clusterIPs: ['None'],
      ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
    }),
  );
  c.slices.set(
    slice(
      'default',
      'db',
      [
        { addresses: ['10.42.0.10'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.42.0.11'], hostname: 'db-1', conditions: { ready: true } },
        { addresses: ['10.42.0.12'], hostname: 'db-2', conditions: { ready: false } },
      ],
      [{ name: 'pg', protocol: 'TCP', port: 5432 }],
    ),
  );
  c.services.set(service('default', 'ext', { type: 'ExternalName', externalName: 'Example.ORG.' }));
  c.services.set(
    service('default', 'dual', {
      clusterIP: '10.43.0.30',
      clusterIPs: ['10.43.0.30', 'fd00:43::30'],
      ports: [{ port: 80 }],
    }),
  );
  for (const [name, ip] of [
    ['web-1', '10.42.0.5'],
    ['web-2', '10.42.0.6'],
    ['web-3', '10.42.0.7'],
    ['db-0', '10.42.0.10'],
    ['db-1', '10.42.0.11'],
    ['db-2', '10.42.0.12'],
    ['lonely', '10.42.0.40'],
  ] as const)
    c.pods.set(pod('default', name, ip));
  c.pods.set(pod('kube-system', 'hostnet', '192.168.1.9', true));
  return c;
}

/** `TYPE data` per record, sorted, for compact expectations. */
export function summary(records: Answer[]): string[] {
  return records
    .map((r) => {
      if (r.type === 'SRV') return `SRV ${r.data.port} ${r.data.target}`;
      if (r.type === 'SOA') return `SOA ${r.data.mname}`;
      if (r.type === 'OPT') return 'OPT';
      return `${r.type} ${String(r.data)}`;
    })
    .sort();
}
