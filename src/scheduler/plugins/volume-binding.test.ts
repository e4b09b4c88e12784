import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClient, type KubeObject } from '../../client/index.ts';
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

test('VolumeBinding: PreBind records the node on a waiting claim and returns once it is bound', async () => {
  const claims: Record<string, KubeObject> = { 'default/wait': structuredClone(objs['default/wait']!) };
  const patches: string[] = [];
  const client = new FakeClient();
  client.addReactor((a) => {
    if (a.verb !== 'patch') return undefined;
    patches.push(`${a.resource} ${a.name}`);
    // The binder answers the annotation a little later.
    setTimeout(() => {
      claims['default/wait'] = { ...claims['default/wait']!, spec: { volumeName: 'pv-1' } };
    }, 30);
    return claims['default/wait'];
  });
  const p = volumeBinding(
    { claim: (ns, name) => claims[`${ns}/${name}`], volume: () => undefined, storageClass: (n) => objs[n] },
    client,
    { pollMs: 5, bindTimeoutMs: 2000 },
  );
  const state = new Map<string, unknown>();
  assert.equal(p.preFilter?.(state, mounting('wait'), cacheOf([node('n1')])), undefined);
  await p.preBind?.(state, mounting('wait'), 'n1');
  assert.deepEqual(patches, ['persistentvolumeclaims wait']);
  assert.equal(claims['default/wait']?.spec?.volumeName, 'pv-1');
});

test('VolumeBinding: PreBind fails when the claim is not bound in time', async () => {
  const client = new FakeClient();
  client.addReactor((a) => (a.verb === 'patch' ? objs['default/wait'] : undefined));
  const p = volumeBinding(
    { claim: (ns, name) => objs[`${ns}/${name}`], volume: () => undefined, storageClass: (n) => objs[n] },
    client,
    { pollMs: 5, bindTimeoutMs: 50 },
  );
  const state = new Map<string, unknown>();
  p.preFilter?.(state, mounting('wait'), cacheOf([node('n1')]));
  await assert.rejects(p.preBind?.(state, mounting('wait'), 'n1') ?? Promise.resolve(), /not bound in time/);
});
