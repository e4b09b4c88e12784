import type { ResourceType, Strategy } from '../resource.ts';
import { age, ageColumn, col, nameColumn, num, str } from '../table-format.ts';
import { asArray, getPath, isObject, type KubeObject, setDefault, specOf } from '../types.ts';
import { invalid, type NameRule, required, validateMeta } from '../validation.ts';

function core(
  kind: string,
  plural: string,
  rest: Partial<ResourceType> & { strategy: Strategy },
): ResourceType {
  return { group: '', version: 'v1', kind, plural, singular: kind.toLowerCase(), namespaced: true, ...rest };
}

/** Validation that only checks metadata with the given name rule. */
export function metaOnly(rule: NameRule = 'subdomain'): Strategy['validate'] {
  return (obj) => validateMeta(obj, rule);
}

const nameAge = {
  columns: [nameColumn, ageColumn],
  row: (o: KubeObject, now: number) => [o.metadata.name ?? '', age(o, now)],
};

export const namespace = core('Namespace', 'namespaces', {
  namespaced: false,
  shortNames: ['ns'],
  statusSubresource: true,
  extraSubresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      setDefault(spec, 'finalizers', ['kubernetes']);
      if (obj.metadata.name)
        obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
    },
    prepareForCreate(obj) {
      obj.status = { phase: 'Active' };
    },
    validate: metaOnly('label'),
    table: {
      columns: [nameColumn, col('Status'), ageColumn],
      row: (o, now) => [o.metadata.name ?? '', str(getPath(o, ['status', 'phase']), 'Active'), age(o, now)],
    },
    fieldSelectors: { 'status.phase': (o) => String(getPath(o, ['status', 'phase']) ?? '') },
  },
});

export const configMap = core('ConfigMap', 'configmaps', {
  shortNames: ['cm'],
  strategy: {
    validate(obj, old) {
      const out = validateMeta(obj, 'subdomain');
      if (
        old?.immutable === true &&
        JSON.stringify([old.data, old.binaryData]) !== JSON.stringify([obj.data, obj.binaryData])
      ) {
        out.push({
          reason: 'FieldValueForbidden',
          field: 'data',
          message: 'Forbidden: field is immutable when `immutable` is set',
        });
      }
      return out;
    },
    table: {
      columns: [nameColumn, col('Data', 0, 'integer'), ageColumn],
      row: (o, now) => [
        o.metadata.name ?? '',
        Object.keys(isObject(o.data) ? o.data : {}).length +
          Object.keys(isObject(o.binaryData) ? o.binaryData : {}).length,
        age(o, now),
      ],
    },
  },
});

function mergeStringData(obj: KubeObject): void {
  if (isObject(obj.stringData)) {
    const data = isObject(obj.data) ? obj.data : {};
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
}

export const secret = core('Secret', 'secrets', {
  strategy: {
    defaults(obj) {
      setDefault(obj, 'type', 'Opaque');
    },
    prepareForCreate: mergeStringData,
    prepareForUpdate: mergeStringData,
    validate(obj, old) {
      const out = validateMeta(obj, 'subdomain');
      if (isObject(obj.data)) {
        for (const [k, v] of Object.entries(obj.data)) {
          if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*=*$/.test(v))
            out.push(invalid(`data[${k}]`, '<secret>', 'must be base64'));
        }
      }
      if (obj.type === 'kubernetes.io/tls') {
        for (const k of ['tls.crt', 'tls.key'])
          if (!isObject(obj.data) || !(k in obj.data)) out.push(required(`data[${k}]`));
      }
      if (old && old.type !== obj.type) out.push(invalid('type', obj.type, 'field is immutable'));
      return out;
    },
    table: {
      columns: [nameColumn, col('Type'), col('Data', 0, 'integer'), ageColumn],
      row: (o, now) => [
        o.metadata.name ?? '',
        str(o.type),
        Object.keys(isObject(o.data) ? o.data : {}).length,
        age(o, now),
      ],
    },
    fieldSelectors: { type: (o) => String(o.type ?? '') },
  },
});

export const serviceAccount = core('ServiceAccount', 'serviceaccounts', {
  shortNames: ['sa'],
  extraSubresources: [
    { name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  ],
  strategy: {
    validate: metaOnly(),
    table: {
      columns: [nameColumn, col('Secrets', 0, 'integer'), ageColumn],
      row: (o, now) => [o.metadata.name ?? '', asArray(o.secrets).length, age(o, now)],
    },
  },
});

export const endpoints = core('Endpoints', 'endpoints', {
  singular: 'endpoints',
  shortNames: ['ep'],
  strategy: {
    validate: metaOnly(),
    table: {
      columns: [nameColumn, col('Endpoints'), ageColumn],
      row(o, now) {
        const eps: string[] = [];
        for (const s of asArray(o.subsets)) {
          const ports = asArray(s.ports);
          for (const a of asArray(s.addresses)) {
            if (ports.length === 0) eps.push(String(a.ip));
            for (const p of ports) eps.push(`${String(a.ip)}:${String(p.port)}`);
          }
        }
        const shown = eps.slice(0, 3).join(',');
        const cell =
          eps.length === 0 ? '<none>' : eps.length > 3 ? `${shown} + ${eps.length - 3} more...` : shown;
        return [o.metadata.name ?? '', cell, age(o, now)];
      },
    },
  },
});

export const event = core('Event', 'events', {
  shortNames: ['ev'],
  strategy: {
    validate: metaOnly('path'),
    table: {
      columns: [
        col('Last Seen'),
        col('Type'),
        col('Reason'),
        col('Object'),
        col('Subobject', 1),
        col('Source', 1),
        col('Message'),
        col('First Seen', 1),
        col('Count', 1, 'integer'),
        { ...nameColumn, priority: 1 },
      ],
      row(o, now) {
        const io = isObject(o.involvedObject) ? o.involvedObject : {};
        const last = o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
        const src = isObject(o.source) ? o.source : {};
        return [
          typeof last === 'string' ? age({ metadata: { creationTimestamp: last } }, now) : '<unknown>',
          str(o.type, ''),
          str(o.reason, ''),
          `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`,
          str(io.fieldPath, ''),
          str(src.component ?? o.reportingComponent, ''),
          str(o.message, ''),
          typeof o.firstTimestamp === 'string'
            ? age({ metadata: { creationTimestamp: o.firstTimestamp } }, now)
            : '<unknown>',
          num(o.count) || 1,
          o.metadata.name ?? '',
        ];
      },
    },
    fieldSelectors: Object.fromEntries([
      ...['kind', 'name', 'namespace', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((f) => [
        `involvedObject.${f}`,
        (o: KubeObject) => String(getPath(o, ['involvedObject', f]) ?? ''),
      ]),
      ['reason', (o: KubeObject) => String(o.reason ?? '')],
      ['type', (o: KubeObject) => String(o.type ?? '')],
      ['source', (o: KubeObject) => String(getPath(o, ['source', 'component']) ?? '')],
      ['reportingComponent', (o: KubeObject) => String(o.reportingComponent ?? '')],
    ]),
  },
});

function nodeStatus(o: KubeObject): string {
  const ready = asArray(getPath(o, ['status', 'conditions'])).find((c) => c.type === 'Ready');
  // As upstream's printer: Ready=False and Ready=Unknown both print NotReady.
  let s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady';
  if (getPath(o, ['spec', 'unschedulable']) === true) s += ',SchedulingDisabled';
  return s;
}

export const node = core('Node', 'nodes', {
  namespaced: false,
  shortNames: ['no'],
  statusSubresource: true,
  storageResource: 'minions',
  extraSubresources: [
    { name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  strategy: {
    validate: metaOnly(),
    table: {
      columns: [
        nameColumn,
        col('Status'),
        col('Roles'),
        ageColumn,
        col('Version'),
        col('Internal-IP', 1),
        col('External-IP', 1),
        col('OS-Image', 1),
        col('Kernel-Version', 1),
        col('Container-Runtime', 1),
      ],
      row(o, now) {
        const roles = Object.keys(o.metadata.labels ?? {})
          .filter((k) => k.startsWith('node-role.kubernetes.io/'))
          .map((k) => k.slice('node-role.kubernetes.io/'.length));
        const addrs = asArray(getPath(o, ['status', 'addresses']));
        const addr = (t: string) => str(addrs.find((a) => a.type === t)?.address);
        const info = getPath(o, ['status', 'nodeInfo']);
        const i = isObject(info) ? info : {};
        return [
          o.metadata.name ?? '',
          nodeStatus(o),
          roles.length ? roles.join(',') : '<none>',
          age(o, now),
          str(i.kubeletVersion, ''),
          addr('InternalIP'),
          addr('ExternalIP'),
          str(i.osImage, '<unknown>'),
          str(i.kernelVersion, '<unknown>'),
          str(i.containerRuntimeVersion, '<unknown>'),
        ];
      },
    },
    fieldSelectors: { 'spec.unschedulable': (o) => String(getPath(o, ['spec', 'unschedulable']) === true) },
  },
});

const accessModes = (o: KubeObject, p: string[]) =>
  ((getPath(o, p) as string[] | undefined) ?? [])
    .map(
      (m) =>
        ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ??
        m,
    )
    .join(',');

export const persistentVolume = core('PersistentVolume', 'persistentvolumes', {
  namespaced: false,
  shortNames: ['pv'],
  statusSubresource: true,
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
      setDefault(spec, 'volumeMode', 'Filesystem');
    },
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending' };
    },
    validate: metaOnly(),
    table: {
      columns: [
        nameColumn,
        col('Capacity'),
        col('Access Modes'),
        col('Reclaim Policy'),
        col('Status'),
        col('Claim'),
        col('StorageClass'),
        col('VolumeAttributesClass'),
        col('Reason'),
        ageColumn,
        col('VolumeMode', 1),
      ],
      row(o, now) {
        const ref = getPath(o, ['spec', 'claimRef']);
        const claim = isObject(ref) ? `${String(ref.namespace)}/${String(ref.name)}` : '';
        return [
          o.metadata.name ?? '',
          str(getPath(o, ['spec', 'capacity', 'storage']), ''),
          accessModes(o, ['spec', 'accessModes']),
          str(getPath(o, ['spec', 'persistentVolumeReclaimPolicy']), ''),
          str(getPath(o, ['status', 'phase']), ''),
          claim,
          str(getPath(o, ['spec', 'storageClassName']), ''),
          '<unset>',
          str(getPath(o, ['status', 'reason']), ''),
          age(o, now),
          str(getPath(o, ['spec', 'volumeMode']), 'Filesystem'),
        ];
      },
    },
  },
});

export const persistentVolumeClaim = core('PersistentVolumeClaim', 'persistentvolumeclaims', {
  shortNames: ['pvc'],
  statusSubresource: true,
  strategy: {
    defaults(obj) {
      setDefault(specOf(obj), 'volumeMode', 'Filesystem');
    },
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending' };
    },
    validate(obj) {
      const out = validateMeta(obj, 'subdomain');
      if (!Array.isArray(getPath(obj, ['spec', 'accessModes']))) out.push(required('spec.accessModes'));
      if (!getPath(obj, ['spec', 'resources', 'requests', 'storage']))
        out.push(required('spec.resources[storage]'));
      return out;
    },
    table: {
      columns: [
        nameColumn,
        col('Status'),
        col('Volume'),
        col('Capacity'),
        col('Access Modes'),
        col('StorageClass'),
        col('VolumeAttributesClass'),
        ageColumn,
        col('VolumeMode', 1),
      ],
      row: (o, now) => [
        o.metadata.name ?? '',
        str(getPath(o, ['status', 'phase']), ''),
        str(getPath(o, ['spec', 'volumeName']), ''),
        str(getPath(o, ['status', 'capacity', 'storage']), ''),
        accessModes(o, ['status', 'accessModes']),
        str(getPath(o, ['spec', 'storageClassName']), ''),
        '<unset>',
        age(o, now),
        str(getPath(o, ['spec', 'volumeMode']), 'Filesystem'),
      ],
    },
  },
});

export const resourceQuota = core('ResourceQuota', 'resourcequotas', {
  shortNames: ['quota'],
  statusSubresource: true,
  strategy: {
    validate: metaOnly(),
    table: {
      columns: [nameColumn, ageColumn, col('Request'), col('Limit')],
      row(o, now) {
        const hard = getPath(o, ['spec', 'hard']);
        const used = getPath(o, ['status', 'used']);
        const req: string[] = [];
        const lim: string[] = [];
        for (const [k, v] of Object.entries(isObject(hard) ? hard : {})) {
          const u = isObject(used) && used[k] !== undefined ? String(used[k]) : '0';
          (k.startsWith('limits.') ? lim : req).push(`${k}: ${u}/${String(v)}`);
        }
        return [o.metadata.name ?? '', age(o, now), req.join(', '), lim.join(', ')];
      },
    },
  },
});

export const limitRange = core('LimitRange', 'limitranges', {
  shortNames: ['limits'],
  strategy: {
    validate: metaOnly(),
    table: {
      columns: [nameColumn, { name: 'Created At', type: 'date', description: 'creation time' }],
      row: (o) => [o.metadata.name ?? '', o.metadata.creationTimestamp ?? ''],
    },
  },
});

export const podTemplate = core('PodTemplate', 'podtemplates', {
  strategy: { validate: metaOnly(), table: nameAge },
});

export { nameAge };
