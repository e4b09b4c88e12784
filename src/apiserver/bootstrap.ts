import type { ResourceType } from '../api/resource.ts';
import { asArray } from '../api/types.ts';
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

/**
 * Creates what every cluster starts with: the system namespaces, the
 * `kubernetes` Service (its endpoint: `advertiseAddress`:`apiPort`) and the
 * `kube-system/kube-dns` Service holding the cluster DNS address.
 */
export async function bootstrap(
  objects: ObjectStore,
  types: TypeRegistry,
  advertiseAddress: string,
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
  const https = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }];
  const svc = await objects.tryGet(svcType, 'default', 'kubernetes');
  if (!svc) {
    await ensure(objects, svcType, {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: { clusterIP: firstServiceIp(network.serviceCidr), ports: https },
    });
  } else if (asArray(svc.spec?.ports)[0]?.targetPort !== apiPort) {
    // The API listens on another port than at the last start: the Service's targetPort follows it.
    await objects.update(
      svcType,
      'default',
      'kubernetes',
      (cur) => ({ ...(cur ?? svc), spec: { ...(cur ?? svc).spec, ports: https } }),
      { fieldManager: 'kube-apiserver' },
    );
  }
  await ensureDnsService(objects, svcType, network.clusterDNS);
  await publishEndpoints(objects, types, advertiseAddress, apiPort);
  await ensureIngressClass(objects, types);
  await ensureLocalPathClass(objects, types);
}

/**
 * kube-system/kube-dns (as k3s's CoreDNS Service is named and labelled): no
 * selector, so no endpoints: it reserves the cluster DNS address in the
 * service range and names it. Every agent answers DNS on that address
 * itself, and the proxy leaves this Service out of its rules.
 */
async function ensureDnsService(
  objects: ObjectStore,
  svcType: ResourceType,
  clusterDNS: string,
): Promise<void> {
  const existing = await objects.tryGet(svcType, 'kube-system', 'kube-dns');
  if (existing) return;
  await ensure(objects, svcType, {
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: {
        'k8s-app': 'kube-dns',
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'DroverDNS',
      },
    },
    spec: {
      clusterIP: clusterDNS,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  });
}

/** Endpoints and EndpointSlice of `default/kubernetes`: this server's address (rewritten at every start). */
async function publishEndpoints(
  objects: ObjectStore,
  types: TypeRegistry,
  ip: string,
  port: number,
): Promise<void> {
  const epType = types.lookup('', 'v1', 'endpoints');
  const sliceType = types.lookup('discovery.k8s.io', 'v1', 'endpointslices');
  if (!epType || !sliceType) return;
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

/**
 * The built-in `local-path` StorageClass, the cluster default: volumes on the
 * node that first runs the claim's pod (controllers/local-path-provisioner.ts).
 * Created once; an administrator's later edits (or removal of the default mark) stay.
 */
async function ensureLocalPathClass(objects: ObjectStore, types: TypeRegistry): Promise<void> {
  const classType = types.lookup('storage.k8s.io', 'v1', 'storageclasses');
  if (!classType || (await objects.tryGet(classType, undefined, 'local-path'))) return;
  await ensure(objects, classType, {
    metadata: {
      name: 'local-path',
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'drover.io/local-path',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
}
