import assert from 'node:assert/strict';
import test from 'node:test';
import { builtinTypes } from './kinds/index.ts';
import type { KubeObject } from './types.ts';

const type = (group: string, plural: string) => {
  const t = builtinTypes().find((x) => x.group === group && x.plural === plural && x.version === 'v1');
  if (!t) throw new Error(plural);
  return t;
};

const workload = (kind: string, spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    template: {
      metadata: { labels: { app: 'web', tier: 'fe' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    },
    ...(kind === 'Job'
      ? {
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
          },
        }
      : {}),
    ...spec,
  },
});

const mismatch =
  'Invalid value: map[string]string{"app":"web", "tier":"fe"}: `selector` does not match template `labels`';

const cases: {
  name: string;
  group: string;
  plural: string;
  kind: string;
  spec: Record<string, unknown>;
  want: string[];
}[] = [
  {
    name: 'matching matchLabels',
    group: 'apps',
    plural: 'deployments',
    kind: 'Deployment',
    spec: { selector: { matchLabels: { app: 'web' } } },
    want: [],
  },
  {
    name: 'mismatched matchLabels',
    group: 'apps',
    plural: 'deployments',
    kind: 'Deployment',
    spec: { selector: { matchLabels: { app: 'api' } } },
    want: [`spec.template.metadata.labels: ${mismatch}`],
  },
  {
    name: 'matchExpressions are evaluated',
    group: 'apps',
    plural: 'replicasets',
    kind: 'ReplicaSet',
    spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe'] }] } },
    want: [`spec.template.metadata.labels: ${mismatch}`],
  },
  {
    name: 'a matching expression passes',
    group: 'apps',
    plural: 'daemonsets',
    kind: 'DaemonSet',
    spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] } },
    want: [],
  },
  {
    name: 'selector required',
    group: 'apps',
    plural: 'statefulsets',
    kind: 'StatefulSet',
    spec: { serviceName: 'web' },
    want: ['spec.selector: Required value'],
  },
  {
    name: 'bad operator and missing values',
    group: 'apps',
    plural: 'deployments',
    kind: 'Deployment',
    spec: {
      selector: {
        matchExpressions: [
          { key: 'a', operator: 'Near' },
          { key: 'b', operator: 'In' },
        ],
      },
    },
    want: [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
      "spec.selector.matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ],
  },
  {
    name: 'negative replicas',
    group: 'apps',
    plural: 'deployments',
    kind: 'Deployment',
    spec: { selector: { matchLabels: { app: 'web' } }, replicas: -1 },
    want: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
  },
  {
    name: 'job with manualSelector that does not match',
    group: 'batch',
    plural: 'jobs',
    kind: 'Job',
    spec: { manualSelector: true, selector: { matchLabels: { app: 'other' } } },
    want: [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ],
  },
  {
    name: 'job with manualSelector and no selector',
    group: 'batch',
    plural: 'jobs',
    kind: 'Job',
    spec: { manualSelector: true },
    want: ['spec.selector: Required value'],
  },
  {
    name: 'job with negative parallelism',
    group: 'batch',
    plural: 'jobs',
    kind: 'Job',
    spec: { parallelism: -2 },
    want: ['spec.parallelism: Invalid value: -2: must be greater than or equal to 0'],
  },
];

for (const tc of cases) {
  test(`workload validation: ${tc.kind}: ${tc.name}`, () => {
    const t = type(tc.group, tc.plural);
    const obj = workload(tc.kind, tc.spec);
    obj.metadata.uid = 'u1';
    t.strategy.defaults?.(obj);
    t.strategy.prepareForCreate?.(obj);
    const errs = (t.strategy.validate?.(obj) ?? []).map((e) => `${e.field}: ${e.message}`);
    assert.deepEqual(errs, tc.want);
  });
}
