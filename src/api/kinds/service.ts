import type { ResourceType } from '../resource.ts';
import { age, ageColumn, col, formatLabels, nameColumn, str } from '../table-format.ts';
import { asArray, getPath, isObject, type KubeObject, setDefault, specOf } from '../types.ts';
import { dropTypeDependentFields, validateService } from './service-validation.ts';

function portsCell(o: KubeObject): string {
  const ports = asArray(getPath(o, ['spec', 'ports']));
  if (ports.length === 0) return '<none>';
  return ports
    .map(
      (p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`,
    )
    .join(',');
}

function externalIp(o: KubeObject): string {
  const type = getPath(o, ['spec', 'type']);
  const ext = (getPath(o, ['spec', 'externalIPs']) as string[] | undefined) ?? [];
  if (type === 'ExternalName') return str(getPath(o, ['spec', 'externalName']));
  const lb = asArray(getPath(o, ['status', 'loadBalancer', 'ingress'])).map((i) =>
    String(i.ip ?? i.hostname),
  );
  if (type === 'LoadBalancer') return [...lb, ...ext].join(',') || '<pending>';
  return ext.length ? ext.join(',') : '<none>';
}

export const service: ResourceType = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  statusSubresource: true,
  storageResource: 'services/specs',
  extraSubresources: [
    { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      // Upstream's default ClientIP affinity timeout: 3 hours.
      if (spec.sessionAffinity === 'ClientIP')
        setDefault(spec, 'sessionAffinityConfig', { clientIP: { timeoutSeconds: 10800 } });
      if (spec.type !== 'ExternalName') {
        setDefault(spec, 'ipFamilies', ['IPv4']);
        setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      }
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer')
        setDefault(spec, 'externalTrafficPolicy', 'Cluster');
      if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
      for (const p of asArray(spec.ports)) {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
    },
    prepareForCreate(obj) {
      obj.status = { loadBalancer: {} };
    },
    prepareForUpdate: dropTypeDependentFields,
    validate: validateService,
    table: {
      columns: [
        nameColumn,
        col('Type'),
        col('Cluster-IP'),
        col('External-IP'),
        col('Port(s)'),
        ageColumn,
        col('Selector', 1),
      ],
      row: (o, now) => [
        o.metadata.name ?? '',
        str(getPath(o, ['spec', 'type']), 'ClusterIP'),
        str(getPath(o, ['spec', 'clusterIP'])),
        externalIp(o),
        portsCell(o),
        age(o, now),
        formatLabels(getPath(o, ['spec', 'selector'])),
      ],
    },
  },
};

/** True when the service needs node ports allocated for its ports. */
export function needsNodePorts(obj: KubeObject): boolean {
  const t = getPath(obj, ['spec', 'type']);
  return (
    t === 'NodePort' ||
    (t === 'LoadBalancer' && getPath(obj, ['spec', 'allocateLoadBalancerNodePorts']) !== false)
  );
}

/** True when the service gets a virtual IP (not headless, not ExternalName). */
export function needsClusterIp(obj: KubeObject): boolean {
  const spec = obj.spec;
  return isObject(spec) && spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}
