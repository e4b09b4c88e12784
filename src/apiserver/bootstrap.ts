import os from 'node:os';
import type { ResourceType } from '../api/resource.ts';
import { AlreadyExistsError } from '../lib/errors.ts';
import type { ObjectStore } from './object-store.ts';
import type { TypeRegistry } from './type-registry.ts';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(
  objects: ObjectStore,
  type: ResourceType,
  obj: Parameters<ObjectStore['create']>[1],
): Promise<void> {
  try {
    await objects.create(type, obj, { fieldManager: 'kube-apiserver' });
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
}

export interface BootstrapNetwork {
  serviceCidr: string;
  clusterDNS: string;
}

/** The `kubernetes` Service's address: the first of the service range, as upstream. */
export function firstServiceIp(cidr: string): string {
  const [ip = '10.43.0.0'] = cidr.split('/');
  const o = ip.split('.').map(Number);
  return [o[0], o[1], o[2], (o[3] ?? 0) + 1].join('.');
}

/** Creates what every cluster starts with: the system namespaces and the `kubernetes` Service. */
export async function bootstrap(
  objects: ObjectStore,
  types: TypeRegistry,
  apiHost: string,
  apiPort: number,
  network: BootstrapNetwork = { serviceCidr: '10.43.0.0/16', clusterDNS: '10.43.0.10' },
): Promise<void> {
  const nsType = types.lookup('', 'v1', 'namespaces');
  const svcType = types.lookup('', 'v1', 'services');
  if (!nsType || !svcType) throw new Error('bootstrapping: core types are not registered');
  await Promise.all(
    systemNamespaces.map(async (name) => {
      if (!(await objects.tryGet(nsType, undefined, name)))
        await ensure(objects, nsType, { metadata: { name } });
    }),
  );
  if (!(await objects.tryGet(svcType, 'default', 'kubernetes'))) {
    await ensure(objects, svcType, {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        clusterIP: firstServiceIp(network.serviceCidr),
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }],
      },
    });
  }
  await publishEndpoints(objects, types, apiHost, apiPort);
  await ensureIngressClass(objects, types);
}

/** The node address pods use to reach the API server when it listens on all interfaces. */
function advertiseAddress(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '127.0.0.1';
}

/** Endpoints and EndpointSlice of `default/kubernetes`: this server's address (rewritten at every start). */
async function publishEndpoints(
  objects: ObjectStore,
  types: TypeRegistry,
  host: string,
  port: number,
): Promise<void> {
  const epType = types.lookup('', 'v1', 'endpoints');
  const sliceType = types.lookup('discovery.k8s.io', 'v1', 'endpointslices');
  if (!epType || !sliceType) return;
  const ip = advertiseAddress(host);
  const labels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
  const endpoints = {
    metadata: { name: 'kubernetes', namespace: 'default', labels },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
  const slice = {
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
    },
    addressType: ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  for (const [type, obj] of [
    [epType, endpoints],
    [sliceType, slice],
  ] as const) {
    await objects.update(type, 'default', 'kubernetes', (cur) => ({ ...cur, ...structuredClone(obj) }), {
      allowCreate: true,
      fieldManager: 'kube-apiserver',
    });
  }
}

/** The default IngressClass `drover`, served by every node's ingress controller (src/ingress). */
async function ensureIngressClass(objects: ObjectStore, types: TypeRegistry): Promise<void> {
  const classType = types.lookup('networking.k8s.io', 'v1', 'ingressclasses');
  if (!classType || (await objects.tryGet(classType, undefined, 'drover'))) return;
  await ensure(objects, classType, {
    metadata: {
      name: 'drover',
      annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
    },
    spec: { controller: 'drover.io/ingress' },
  });
}
