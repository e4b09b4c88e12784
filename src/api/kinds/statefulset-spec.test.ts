import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../types.ts';
import { statefulSet } from './apps.ts';

const sts = (spec: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'db', namespace: 'default' },
  spec: {
    serviceName: 'db',
    selector: { matchLabels: { app: 'db' } },
    template: {
      metadata: { labels: { app: 'db' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    },
    ...spec,
  },
});

/** Defaulted then validated, as the API server does on create (and update with `old`). */
function errors(obj: KubeObject, old?: KubeObject): string[] {
  const o = structuredClone(obj);
  statefulSet.strategy.defaults?.(o);
  return (statefulSet.strategy.validate?.(o, old) ?? []).map((e) => `${e.field}: ${e.message}`);
}

const cases: { name: string; obj: KubeObject; want: string[] }[] = [
  { name: 'a valid set', obj: sts(), want: [] },
  { name: 'no serviceName is allowed (upstream: optional)', obj: sts({ serviceName: undefined }), want: [] },
  {
    name: 'selector not matching the template',
    obj: sts({ selector: { matchLabels: { app: 'web' } } }),
    want: [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"db"}: `selector` does not match template `labels`',
    ],
  },
  {
    name: 'negative replicas',
    obj: sts({ replicas: -1 }),
    want: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
  },
  {
    name: 'serviceName not a DNS label',
    obj: sts({ serviceName: 'Db_1' }),
    want: [
      `spec.serviceName: Invalid value: "Db_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    ],
  },
  {
    name: 'unknown podManagementPolicy',
    obj: sts({ podManagementPolicy: 'Random' }),
    want: [
      'spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"',
    ],
  },
  {
    name: 'negative partition',
    obj: sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -2 } } }),
    want: [
      'spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0',
    ],
  },
  {
    name: 'a strategy without type defaults to RollingUpdate',
    obj: sts({ updateStrategy: { rollingUpdate: { partition: 1 } } }),
    want: [],
  },
  {
    name: 'rollingUpdate with OnDelete',
    obj: sts({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }),
    want: [
      `spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy 'RollingUpdate'`,
    ],
  },
  {
    name: 'unknown claim retention',
    obj: sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } }),
    want: [
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ],
  },
  {
    name: 'restartPolicy other than Always',
    obj: sts({
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
      },
    }),
    want: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  },
];

for (const tc of cases) {
  test(`statefulset validation: ${tc.name}`, () => {
    assert.deepEqual(errors(tc.obj), tc.want);
  });
}

test('statefulset validation: an update may change replicas and template, not serviceName', () => {
  const old = structuredClone(sts());
  statefulSet.strategy.defaults?.(old);
  assert.deepEqual(errors(sts({ replicas: 5 }), old), []);
  assert.deepEqual(errors(sts({ serviceName: 'other' }), old), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
});
