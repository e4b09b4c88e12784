/**
 * The shapes the proxy reads (only the fields it touches; the rest stays
 * reachable through the open index signatures) and the normalized model it
 * turns them into before writing rules.
 */
import type { KubeObject } from '../client/index.ts';

type Open = { [key: string]: unknown };

export interface ServicePort extends Open {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  spec?: Open & {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    clusterIP?: string;
    ports?: ServicePort[];
    externalIPs?: string[];
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
  };
  status?: Open & { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint extends Open {
  addresses: string[];
  conditions?: EndpointConditions;
  nodeName?: string;
}

export interface EndpointPort extends Open {
  name?: string;
  protocol?: string;
  port?: number;
}

export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: Endpoint[] | null;
  ports?: EndpointPort[] | null;
}

/** The label tying an EndpointSlice to its Service. */
export const serviceNameLabel = 'kubernetes.io/service-name';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One backend of a service port, already resolved to an address and a port number. */
export interface Backend {
  ip: string;
  port: number;
  /** On this node (its traffic may keep the client's source address under policy Local). */
  isLocal: boolean;
}

/**
 * One port of one Service, normalized: what the rules for it depend on and
 * nothing else, so equal models give equal rules.
 */
export interface ServicePortModel {
  /** `namespace/name/protocol/portName` (the port number when unnamed): unique, and valid in nft names. */
  id: string;
  clusterIP?: string;
  protocol: Protocol;
  port: number;
  nodePort?: number;
  /** type LoadBalancer: `port` is also opened on the node's addresses (k3s servicelb style). */
  loadBalancer: boolean;
  externalIPs: string[];
  /** ClientIP affinity timeout in seconds (undefined: no affinity). */
  affinitySeconds?: number;
  externalLocal: boolean;
  internalLocal: boolean;
  /** Ready backends, or serving+terminating ones when none is ready (as upstream). */
  backends: Backend[];
  /** The same choice among this node's backends only. */
  localBackends: Backend[];
}
