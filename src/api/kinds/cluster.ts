import type { ResourceType } from '../resource.ts';
import { age, ageColumn, col, nameColumn, num, str } from '../table-format.ts';
import { asArray, getPath, isObject, type KubeObject, setDefault, specOf } from '../types.ts';
import { invalid, required, validateMeta } from '../validation.ts';

// Kinds from the smaller groups: coordination, discovery, events, policy,
// storage, scheduling and autoscaling.

export const lease: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  strategy: {
    validate: (o) => validateMeta(o, 'subdomain'),
    table: {
      columns: [nameColumn, col('Holder'), ageColumn],
      row: (o, now) => [o.metadata.name ?? '', str(getPath(o, ['spec', 'holderIdentity']), ''), age(o, now)],
    },
  },
};

export const endpointSlice: ResourceType = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  strategy: {
    validate(o) {
      const out = validateMeta(o, 'subdomain');
      if (!o.addressType) out.push(required('addressType'));
      return out;
    },
    table: {
      columns: [nameColumn, col('AddressType'), col('Ports'), col('Endpoints'), ageColumn],
      row(o, now) {
        const ports = asArray(o.ports).map((p) => String(p.port));
        const eps = asArray(o.endpoints).flatMap((e) =>
          Array.isArray(e.addresses) ? e.addresses.map(String) : [],
        );
        const shown = eps.slice(0, 3).join(',');
        return [
          o.metadata.name ?? '',
          str(o.addressType, ''),
          ports.length ? ports.join(',') : '<unset>',
          eps.length === 0 ? '<unset>' : eps.length > 3 ? `${shown} + ${eps.length - 3} more...` : shown,
          age(o, now),
        ];
      },
    },
  },
};

export const eventsV1Event: ResourceType = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  storageResource: 'events.k8s.io/events',
  strategy: {
    validate(o) {
      const out = validateMeta(o, 'path');
      if (!o.eventTime) out.push(required('eventTime'));
      return out;
    },
  },
};

export const podDisruptionBudget: ResourceType = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  statusSubresource: true,
  tracksGeneration: true,
  strategy: {
    validate(o) {
      const out = validateMeta(o, 'subdomain');
      const spec = o.spec ?? {};
      if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
        out.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
      }
      return out;
    },
    table: {
      columns: [
        nameColumn,
        col('Min Available'),
        col('Max Unavailable'),
        col('Allowed Disruptions', 0, 'integer'),
        ageColumn,
      ],
      row: (o, now) => [
        o.metadata.name ?? '',
        str(getPath(o, ['spec', 'minAvailable']), 'N/A'),
        str(getPath(o, ['spec', 'maxUnavailable']), 'N/A'),
        num(getPath(o, ['status', 'disruptionsAllowed'])),
        age(o, now),
      ],
    },
  },
};

export const storageClass: ResourceType = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  strategy: {
    defaults(o) {
      setDefault(o, 'reclaimPolicy', 'Delete');
      setDefault(o, 'volumeBindingMode', 'Immediate');
    },
    validate(o) {
      const out = validateMeta(o, 'subdomain');
      if (!o.provisioner) out.push(required('provisioner'));
      return out;
    },
    table: {
      columns: [
        nameColumn,
        col('Provisioner'),
        col('ReclaimPolicy'),
        col('VolumeBindingMode'),
        col('AllowVolumeExpansion', 0, 'boolean'),
        ageColumn,
      ],
      row(o, now) {
        const isDefault = o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true';
        return [
          `${o.metadata.name ?? ''}${isDefault ? ' (default)' : ''}`,
          str(o.provisioner, ''),
          str(o.reclaimPolicy, 'Delete'),
          str(o.volumeBindingMode, 'Immediate'),
          o.allowVolumeExpansion === true ? 'true' : 'false',
          age(o, now),
        ];
      },
    },
  },
};

export const priorityClass: ResourceType = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  namespaced: false,
  shortNames: ['pc'],
  strategy: {
    defaults: (o) => setDefault(o, 'preemptionPolicy', 'PreemptLowerPriority'),
    validate(o) {
      const out = validateMeta(o, 'subdomain');
      if (typeof o.value !== 'number') out.push(required('value'));
      return out;
    },
    table: {
      columns: [
        nameColumn,
        col('Value', 0, 'integer'),
        col('Global-Default', 0, 'boolean'),
        ageColumn,
        col('PreemptionPolicy'),
      ],
      row: (o, now) => [
        o.metadata.name ?? '',
        num(o.value),
        o.globalDefault === true,
        age(o, now),
        str(o.preemptionPolicy, ''),
      ],
    },
  },
};

function hpaTargets(o: KubeObject): string {
  const metrics = asArray(getPath(o, ['spec', 'metrics']));
  if (metrics.length === 0) {
    const t = getPath(o, ['spec', 'targetCPUUtilizationPercentage']);
    return t === undefined ? '<none>' : `cpu: <unknown>/${String(t)}%`;
  }
  return metrics
    .map((m) => {
      const r = isObject(m.resource) ? m.resource : {};
      const target = isObject(r.target) ? r.target : {};
      const goal =
        target.averageUtilization !== undefined
          ? `${String(target.averageUtilization)}%`
          : str(target.averageValue ?? target.value, '');
      return `${String(r.name ?? m.type)}: <unknown>/${goal}`;
    })
    .join(', ');
}

function hpa(version: 'v1' | 'v2'): ResourceType {
  return {
    group: 'autoscaling',
    version,
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    singular: 'horizontalpodautoscaler',
    namespaced: true,
    shortNames: ['hpa'],
    categories: ['all'],
    statusSubresource: true,
    tracksGeneration: true,
    strategy: {
      defaults: (o) => setDefault(specOf(o), 'minReplicas', 1),
      validate(o) {
        const out = validateMeta(o, 'subdomain');
        if (typeof getPath(o, ['spec', 'maxReplicas']) !== 'number') out.push(required('spec.maxReplicas'));
        if (!getPath(o, ['spec', 'scaleTargetRef', 'name'])) out.push(required('spec.scaleTargetRef.name'));
        return out;
      },
      table: {
        columns: [
          nameColumn,
          col('Reference'),
          col('Targets'),
          col('MinPods', 0, 'integer'),
          col('MaxPods', 0, 'integer'),
          col('Replicas', 0, 'integer'),
          ageColumn,
        ],
        row: (o, now) => [
          o.metadata.name ?? '',
          `${String(getPath(o, ['spec', 'scaleTargetRef', 'kind']))}/${String(getPath(o, ['spec', 'scaleTargetRef', 'name']))}`,
          hpaTargets(o),
          num(getPath(o, ['spec', 'minReplicas'])) || 1,
          num(getPath(o, ['spec', 'maxReplicas'])),
          num(getPath(o, ['status', 'currentReplicas'])),
          age(o, now),
        ],
      },
    },
  };
}

/** autoscaling/v1 ↔ v2: v1's CPU utilization target is v2's Resource cpu metric. */
function hpaV1ToV2(o: KubeObject): KubeObject {
  const out = structuredClone(o);
  out.apiVersion = 'autoscaling/v2';
  const spec = specOf(out);
  const target = spec.targetCPUUtilizationPercentage;
  delete spec.targetCPUUtilizationPercentage;
  if (typeof target === 'number') {
    spec.metrics = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
      },
    ];
  }
  const status = isObject(out.status) ? out.status : undefined;
  if (status && typeof status.currentCPUUtilizationPercentage === 'number') {
    status.currentMetrics = [
      {
        type: 'Resource',
        resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } },
      },
    ];
    delete status.currentCPUUtilizationPercentage;
  }
  return out;
}

function hpaV2ToV1(o: KubeObject): KubeObject {
  const out = structuredClone(o);
  out.apiVersion = 'autoscaling/v1';
  const spec = specOf(out);
  const cpu = asArray(spec.metrics).find(
    (m) => m.type === 'Resource' && getPath(m, ['resource', 'name']) === 'cpu',
  );
  const target = getPath(cpu, ['resource', 'target', 'averageUtilization']);
  delete spec.metrics;
  delete spec.behavior;
  if (typeof target === 'number') spec.targetCPUUtilizationPercentage = target;
  const status = isObject(out.status) ? out.status : undefined;
  if (status) {
    const cur = asArray(status.currentMetrics).find((m) => getPath(m, ['resource', 'name']) === 'cpu');
    const util = getPath(cur, ['resource', 'current', 'averageUtilization']);
    delete status.currentMetrics;
    delete status.conditions;
    if (typeof util === 'number') status.currentCPUUtilizationPercentage = util;
  }
  return out;
}

export const hpaV2 = hpa('v2');
export const hpaV1: ResourceType = {
  ...hpa('v1'),
  conversion: { toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 },
};

function review(group: string, kind: string): ResourceType {
  return {
    group,
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    namespaced: false,
    createOnly: true,
    verbs: ['create'],
    strategy: {},
  };
}

/** `kubectl auth can-i --list`. */
export const selfSubjectRulesReview = review('authorization.k8s.io', 'SelfSubjectRulesReview');
/** `kubectl auth whoami`. */
export const selfSubjectReview = review('authentication.k8s.io', 'SelfSubjectReview');

export const selfSubjectAccessReview: ResourceType = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectAccessReview',
  plural: 'selfsubjectaccessreviews',
  singular: 'selfsubjectaccessreview',
  namespaced: false,
  createOnly: true,
  verbs: ['create'],
  strategy: {},
};
