import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../client/index.ts';
import { cacheOf, filterReasons, node, pod } from '../fixtures.ts';
import { conflictReason, unboundImmediateReason, volumeBinding } from './volume-binding.ts';

const objs: Record<string, KubeObject> = {
  'default/bound': { metadata: { name: 'bound', namespace: 'default' }, spec: { volumeName: 'local-pv' } },
  'default/wait': {
    metadata: { name: 'wait', namespace: 'default' },
    spec: { storageClassName: 'local-path' },
  },
  'default/now': { metadata: { name: 'now', namespace: 'default' }, spec: { storageClassName: 'fast' } },
  'local-pv': {
    metadata: { name: 'local-pv' },
    spec: {
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] },
          ],
        },
      },
    },
  },
  'local-path': { metadata: { name: 'local-path' }, volumeBindingMode: 'WaitForFirstConsumer' },
  fast: { metadata: { name: 'fast' }, volumeBindingMode: 'Immediate' },
};
const plugin = volumeBinding({
  claim: (ns, name) => objs[`${ns}/${name}`],
  volume: (name) => objs[name],
  storageClass: (name) => objs[name],
});
const mounting = (claimName: string) =>
  pod('p', { spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName } }] } });

const cases: { name: string; claim?: string; on: string; want?: string }[] = [
  { name: 'no claims', on: 'n2' },
  { name: 'bound local volume on its node', claim: 'bound', on: 'n1' },
  { name: 'bound local volume elsewhere', claim: 'bound', on: 'n2', want: conflictReason },
  { name: 'unbound WaitForFirstConsumer claim', claim: 'wait', on: 'n2' },
  { name: 'unbound Immediate claim', claim: 'now', on: 'n1', want: unboundImmediateReason },
  { name: 'missing claim', claim: 'gone', on: 'n1', want: 'persistentvolumeclaim "gone" not found' },
];

for (const tc of cases) {
  test(`VolumeBinding: ${tc.name}`, () => {
    const got = filterReasons(
      plugin,
      tc.claim ? mounting(tc.claim) : pod('p'),
      cacheOf([node('n1'), node('n2')]),
      tc.on,
    );
    assert.deepEqual(got, tc.want ? [tc.want] : undefined);
  });
}
