import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';
import { newPersistentVolumeBinder } from './persistent-volume-binder.ts';
import type { PersistentVolume, PersistentVolumeClaim } from './persistent-volume-match.ts';

const pvc = (
  o: { cls?: string; size?: string; modes?: string[]; ann?: Record<string, string>; selector?: object } = {},
) => ({
  metadata: { name: 'c', namespace: 'default', uid: 'claim-uid', ...(o.ann ? { annotations: o.ann } : {}) },
  spec: {
    accessModes: o.modes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: o.size ?? '1Gi' } },
    ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
    ...(o.selector ? { selector: o.selector } : {}),
  },
  status: { phase: 'Pending' },
});
const pv = (
  name: string,
  o: {
    size?: string;
    cls?: string;
    modes?: string[];
    labels?: Record<string, string>;
    claimRef?: Record<string, string>;
    node?: string;
    phase?: string;
    reclaim?: string;
  } = {},
): KubeObject => ({
  metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
  spec: {
    capacity: { storage: o.size ?? '1Gi' },
    accessModes: o.modes ?? ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: o.reclaim ?? 'Retain',
    ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
    ...(o.claimRef ? { claimRef: o.claimRef } : {}),
    ...(o.node
      ? {
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] },
              ],
            },
          },
        }
      : {}),
  },
  status: { phase: o.phase ?? 'Available' },
});
const wffc: KubeObject = {
  metadata: { name: 'local' },
  provisioner: 'drover.io/local-path',
  volumeBindingMode: 'WaitForFirstConsumer',
};
const immediate: KubeObject = { metadata: { name: 'fast' }, provisioner: 'example.com/fast' };
const node = (name: string): KubeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
});
const C = (o: KubeObject): [Resource, KubeObject] => [resources.persistentVolumeClaims, o];
const V = (o: KubeObject): [Resource, KubeObject] => [resources.persistentVolumes, o];
const SC = (o: KubeObject): [Resource, KubeObject] => [resources.storageClasses, o];
const N = (o: KubeObject): [Resource, KubeObject] => [resources.nodes, o];
const binds = (name: string) => [
  `update persistentvolumes ${name}`,
  `update persistentvolumes/status ${name}`,
  'update persistentvolumeclaims c',
  'update persistentvolumeclaims/status c',
];

interface Case {
  name: string;
  key?: string;
  objects: [Resource, KubeObject][];
  want: string[];
  bound?: string;
  phase?: [string, string];
}

const cases: Case[] = [
  {
    name: 'binds the smallest volume of the class that fits',
    objects: [
      C(pvc()),
      V(pv('big', { size: '5Gi' })),
      V(pv('fit', { size: '2Gi' })),
      V(pv('small', { size: '500Mi' })),
    ],
    want: binds('fit'),
    bound: 'fit',
  },
  {
    name: 'skips volumes of another class, access mode or with another claim',
    objects: [
      C(pvc({ modes: ['ReadWriteMany'] })),
      V(pv('cls', { cls: 'gold', modes: ['ReadWriteMany'] })),
      V(pv('rwo')),
      V(
        pv('taken', {
          modes: ['ReadWriteMany'],
          claimRef: { namespace: 'default', name: 'other', uid: 'x' },
        }),
      ),
    ],
    want: ['create events'],
  },
  {
    name: 'honours the claim selector',
    objects: [
      C(pvc({ selector: { matchLabels: { tier: 'fast' } } })),
      V(pv('plain')),
      V(pv('fast', { size: '3Gi', labels: { tier: 'fast' } })),
    ],
    want: binds('fast'),
    bound: 'fast',
  },
  {
    name: 'a volume pre-bound to the claim wins (no bound-by-controller write needed for a full ref)',
    objects: [
      C(pvc()),
      V(pv('fit')),
      V(pv('pre', { size: '9Gi', claimRef: { namespace: 'default', name: 'c' } })),
    ],
    want: binds('pre'),
    bound: 'pre',
  },
  {
    name: 'WaitForFirstConsumer: nothing until the scheduler picks a node',
    objects: [C(pvc({ cls: 'local' })), SC(wffc), V(pv('n1', { cls: 'local', node: 'n1' }))],
    want: ['create events'],
  },
  {
    name: 'WaitForFirstConsumer: binds a volume the selected node can reach',
    objects: [
      C(pvc({ cls: 'local', ann: { 'volume.kubernetes.io/selected-node': 'n2' } })),
      SC(wffc),
      N(node('n1')),
      N(node('n2')),
      V(pv('on-n1', { cls: 'local', node: 'n1' })),
      V(pv('on-n2', { cls: 'local', node: 'n2', size: '2Gi' })),
    ],
    want: binds('on-n2'),
    bound: 'on-n2',
  },
  {
    name: 'no volume fits: hands the claim to the class provisioner',
    objects: [C(pvc({ cls: 'fast' })), SC(immediate)],
    want: ['patch persistentvolumeclaims c', 'create events'],
  },
  {
    name: 'volume without a claim becomes Available',
    key: 'volume:v',
    objects: [V(pv('v', { phase: 'Pending' }))],
    want: ['update persistentvolumes/status v'],
    phase: ['v', 'Available'],
  },
  {
    name: 'volume whose claim is gone becomes Released (Retain keeps it)',
    key: 'volume:v',
    objects: [V(pv('v', { phase: 'Bound', claimRef: { namespace: 'default', name: 'gone', uid: 'u1' } }))],
    want: ['get persistentvolumeclaims gone', 'update persistentvolumes/status v'],
    phase: ['v', 'Released'],
  },
  {
    name: 'claim bound elsewhere: a controller-bound volume is given back',
    key: 'volume:v',
    objects: [
      C({ ...pvc(), spec: { ...pvc().spec, volumeName: 'w' } }),
      V({
        ...pv('v', { phase: 'Bound', claimRef: { namespace: 'default', name: 'c', uid: 'claim-uid' } }),
        metadata: { name: 'v', annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' } },
      }),
    ],
    want: ['update persistentvolumes v', 'update persistentvolumes/status v'],
    phase: ['v', 'Available'],
  },
];

for (const tc of cases) {
  test(`persistentvolume-binder: ${tc.name}`, async () => {
    const c = await fakeCluster(newPersistentVolumeBinder, tc.objects);
    try {
      await c.controller.reconcile(tc.key ?? 'claim:default/c');
      await c.settle();
      const writes = writeLog(c.client).filter((w) => !w.startsWith('get '));
      const gets = c.client.actions.filter((a) => a.verb === 'get').map((a) => `get ${a.resource} ${a.name}`);
      assert.deepEqual([...writes, ...gets].sort(), [...tc.want].sort());
      if (tc.bound) {
        const claim = c.client.peek<PersistentVolumeClaim>(resources.persistentVolumeClaims, 'default/c');
        const vol = c.client.peek<PersistentVolume>(resources.persistentVolumes, tc.bound);
        assert.equal(claim?.spec?.volumeName, tc.bound);
        assert.equal(claim?.status?.phase, 'Bound');
        assert.equal(claim?.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
        assert.equal(vol?.spec?.claimRef?.uid, claim?.metadata.uid);
        assert.equal(vol?.status?.phase, 'Bound');
      }
      if (tc.phase) {
        const vol = c.client.peek<PersistentVolume>(resources.persistentVolumes, tc.phase[0]);
        assert.equal(vol?.status?.phase, tc.phase[1]);
      }
    } finally {
      await c.stop();
    }
  });
}
