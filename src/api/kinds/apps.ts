import type { FieldError, ResourceType, ScaleSpec, Strategy, TablePrinter } from '../resource.ts';
import {
  age,
  ageColumn,
  col,
  containersAndImages,
  formatLabels,
  formatSelector,
  nameColumn,
  num,
  workloadWide,
} from '../table-format.ts';
import { getPath, isObject, type KubeObject, setDefault, specOf } from '../types.ts';
import { immutable, invalid, validateMeta, validateWorkloadSelector } from '../validation.ts';
import { defaultPodSpec, validatePodSpec } from './pod.ts';
import { defaultUpdateStrategy, validateStatefulSet } from './statefulset-spec.ts';

const tmplSpec = ['spec', 'template', 'spec'];

/** Selector must be present and match the template's labels (upstream 422 otherwise). */
export function validateSelectorTemplate(
  obj: KubeObject,
  old?: KubeObject,
  selectorRequired = true,
): FieldError[] {
  const sel = getPath(obj, ['spec', 'selector']);
  const out: FieldError[] = validateWorkloadSelector(obj.spec, { selectorRequired });
  if (isObject(sel)) {
    const ml = isObject(sel.matchLabels) ? sel.matchLabels : {};
    const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
    if (Object.keys(ml).length === 0 && exprs.length === 0) {
      out.push(invalid('spec.selector', sel, 'empty selector is invalid for deployment'));
    }
  }
  if (old) out.push(...immutable(getPath(old, ['spec', 'selector']), sel, 'spec.selector'));
  out.push(...validatePodSpec(getPath(obj, tmplSpec), 'spec.template.spec'));
  const replicas = getPath(obj, ['spec', 'replicas']);
  if (replicas !== undefined && (typeof replicas !== 'number' || replicas < 0)) {
    out.push(invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  return out;
}

function defaultTemplate(obj: KubeObject): void {
  const spec = getPath(obj, tmplSpec);
  if (isObject(spec)) defaultPodSpec(spec);
}

const replicasScale: ScaleSpec = {
  specReplicasPath: ['spec', 'replicas'],
  statusReplicasPath: ['status', 'replicas'],
  selector: (o) => formatSelector(getPath(o, ['spec', 'selector'])).replace(/^<none>$/, ''),
};

function apps(kind: string, plural: string, short: string[], strategy: Strategy, scale = true): ResourceType {
  return {
    group: 'apps',
    version: 'v1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced: true,
    shortNames: short,
    categories: ['all'],
    statusSubresource: true,
    tracksGeneration: true,
    ...(scale ? { scale: replicasScale } : {}),
    strategy,
  };
}

const wide = (o: KubeObject): string[] => [
  ...containersAndImages(o, tmplSpec),
  formatSelector(getPath(o, ['spec', 'selector'])),
];
const s = (o: KubeObject, f: string) => num(getPath(o, ['status', f]));

const rsTable: TablePrinter = {
  columns: [
    nameColumn,
    col('Desired', 0, 'integer'),
    col('Current', 0, 'integer'),
    col('Ready', 0, 'integer'),
    ageColumn,
    ...workloadWide,
  ],
  row: (o, now) => [
    o.metadata.name ?? '',
    num(getPath(o, ['spec', 'replicas'])),
    s(o, 'replicas'),
    s(o, 'readyReplicas'),
    age(o, now),
    ...wide(o),
  ],
};

export const deployment = apps('Deployment', 'deployments', ['deploy'], {
  defaults(obj) {
    const spec = specOf(obj);
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'strategy', { type: 'RollingUpdate' });
    const st = spec.strategy;
    if (isObject(st) && st.type === 'RollingUpdate')
      setDefault(st, 'rollingUpdate', { maxUnavailable: '25%', maxSurge: '25%' });
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
    defaultTemplate(obj);
  },
  validate: (obj, old) => [...validateMeta(obj, 'subdomain'), ...validateSelectorTemplate(obj, old)],
  table: {
    columns: [
      nameColumn,
      col('Ready'),
      col('Up-to-date', 0, 'integer'),
      col('Available', 0, 'integer'),
      ageColumn,
      ...workloadWide,
    ],
    row: (o, now) => [
      o.metadata.name ?? '',
      `${s(o, 'readyReplicas')}/${num(getPath(o, ['spec', 'replicas']))}`,
      s(o, 'updatedReplicas'),
      s(o, 'availableReplicas'),
      age(o, now),
      ...wide(o),
    ],
  },
});

export const replicaSet = apps('ReplicaSet', 'replicasets', ['rs'], {
  defaults(obj) {
    setDefault(specOf(obj), 'replicas', 1);
    defaultTemplate(obj);
  },
  validate: (obj, old) => [...validateMeta(obj, 'subdomain'), ...validateSelectorTemplate(obj, old)],
  table: rsTable,
});

export const statefulSet = apps('StatefulSet', 'statefulsets', ['sts'], {
  defaults(obj) {
    const spec = specOf(obj);
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'podManagementPolicy', 'OrderedReady');
    defaultUpdateStrategy(spec);
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
    defaultTemplate(obj);
  },
  validate: (obj, old) => [
    ...validateMeta(obj, 'subdomain'),
    ...validateSelectorTemplate(obj, old),
    ...validateStatefulSet(obj, old),
  ],
  table: {
    columns: [nameColumn, col('Ready'), ageColumn, col('Containers', 1), col('Images', 1)],
    row: (o, now) => [
      o.metadata.name ?? '',
      `${s(o, 'readyReplicas')}/${num(getPath(o, ['spec', 'replicas']))}`,
      age(o, now),
      ...containersAndImages(o, tmplSpec),
    ],
  },
});

export const daemonSet = apps(
  'DaemonSet',
  'daemonsets',
  ['ds'],
  {
    defaults(obj) {
      const spec = specOf(obj);
      setDefault(spec, 'updateStrategy', {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
      });
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(obj);
    },
    validate: (obj, old) => [...validateMeta(obj, 'subdomain'), ...validateSelectorTemplate(obj, old)],
    table: {
      columns: [
        nameColumn,
        col('Desired', 0, 'integer'),
        col('Current', 0, 'integer'),
        col('Ready', 0, 'integer'),
        col('Up-to-date', 0, 'integer'),
        col('Available', 0, 'integer'),
        col('Node Selector'),
        ageColumn,
        ...workloadWide,
      ],
      row: (o, now) => [
        o.metadata.name ?? '',
        s(o, 'desiredNumberScheduled'),
        s(o, 'currentNumberScheduled'),
        s(o, 'numberReady'),
        s(o, 'updatedNumberScheduled'),
        s(o, 'numberAvailable'),
        formatLabels(getPath(o, [...tmplSpec, 'nodeSelector'])),
        age(o, now),
        ...wide(o),
      ],
    },
  },
  false,
);

export const controllerRevision: ResourceType = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  strategy: {
    validate: (obj) => validateMeta(obj, 'subdomain'),
    table: {
      columns: [nameColumn, col('Controller'), col('Revision', 0, 'integer'), ageColumn],
      row(o, now) {
        const owner = o.metadata.ownerReferences?.find((r) => r.controller);
        const ctl = owner
          ? `${owner.kind.toLowerCase()}.${owner.apiVersion.split('/')[0]}/${owner.name}`
          : '<none>';
        return [o.metadata.name ?? '', ctl, num(o.revision), age(o, now)];
      },
    },
  },
};

export const replicationController: ResourceType = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  statusSubresource: true,
  tracksGeneration: true,
  storageResource: 'controllers',
  scale: { ...replicasScale, selector: (o) => formatLabels(getPath(o, ['spec', 'selector']), '') },
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      setDefault(spec, 'replicas', 1);
      const labels = getPath(obj, ['spec', 'template', 'metadata', 'labels']);
      if (spec.selector === undefined && isObject(labels)) spec.selector = { ...labels };
      defaultTemplate(obj);
    },
    validate: (obj) => [
      ...validateMeta(obj, 'subdomain'),
      ...validatePodSpec(getPath(obj, tmplSpec), 'spec.template.spec'),
    ],
    table: {
      ...rsTable,
      row: (o, now) => [
        o.metadata.name ?? '',
        num(getPath(o, ['spec', 'replicas'])),
        s(o, 'replicas'),
        s(o, 'readyReplicas'),
        age(o, now),
        ...containersAndImages(o, tmplSpec),
        formatLabels(getPath(o, ['spec', 'selector'])),
      ],
    },
  },
};
