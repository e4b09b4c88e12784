import type { ResourceType } from '../resource.ts';
import { age, ageColumn, col, formatSelector, nameColumn, str } from '../table-format.ts';
import { asArray, getPath, type KubeObject, specOf } from '../types.ts';
import { validateMeta } from '../validation.ts';
import { validateIngress, validateIngressClass } from './ingress-validation.ts';

export const ingress: ResourceType = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  statusSubresource: true,
  tracksGeneration: true,
  storageResource: 'ingress',
  strategy: {
    validate: validateIngress,
    table: {
      columns: [nameColumn, col('Class'), col('Hosts'), col('Address'), col('Ports'), ageColumn],
      row(o: KubeObject, now: number) {
        const hosts = asArray(getPath(o, ['spec', 'rules'])).map((r) => String(r.host ?? '*'));
        const addr = asArray(getPath(o, ['status', 'loadBalancer', 'ingress'])).map((i) =>
          String(i.ip ?? i.hostname),
        );
        const tls = asArray(getPath(o, ['spec', 'tls'])).length > 0;
        return [
          o.metadata.name ?? '',
          str(getPath(o, ['spec', 'ingressClassName'])),
          hosts.length ? hosts.join(',') : '*',
          addr.join(','),
          tls ? '80, 443' : '80',
          age(o, now),
        ];
      },
    },
  },
};

export const ingressClass: ResourceType = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  tracksGeneration: true,
  strategy: {
    validate: validateIngressClass,
    table: {
      columns: [nameColumn, col('Controller'), col('Parameters'), ageColumn],
      row: (o, now) => [
        o.metadata.name ?? '',
        str(getPath(o, ['spec', 'controller']), ''),
        str(getPath(o, ['spec', 'parameters', 'name'])),
        age(o, now),
      ],
    },
  },
};

export const networkPolicy: ResourceType = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  tracksGeneration: true,
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      if (spec.policyTypes === undefined)
        spec.policyTypes = spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
    },
    validate: (o) => validateMeta(o, 'subdomain'),
    table: {
      columns: [nameColumn, col('Pod-Selector'), ageColumn],
      row: (o, now) => [
        o.metadata.name ?? '',
        formatSelector(getPath(o, ['spec', 'podSelector'])).replace('<none>', ''),
        age(o, now),
      ],
    },
  },
};
