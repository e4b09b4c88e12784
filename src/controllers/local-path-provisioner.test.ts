import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';
import { cleanupFinalizer, newLocalPathProvisioner } from './local-path-provisioner.ts';
import type { PersistentVolume } from './persistent-volume-match.ts';

const cls = (o: { reclaim?: string; nodePath?: string; provisioner?: string } = {}): KubeObject => ({
  metadata: { name: 'local-path' },
  provisioner: o.provisioner ?? 'drover.io/local-path',
  volumeBindingMode: 'WaitForFirstConsumer',
  reclaimPolicy: o.reclaim ?? 'Delete',
  ...(o.nodePath ? { parameters: { nodePath: o.nodePath } } : {}),
});
const claim = (ann: Record<string, string>): KubeObject => ({
  metadata: { name: 'data', namespace: 'default', uid: 'u1', annotations: ann },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '2Gi' } },
    storageClassName: 'local-path',
  },
});
const handed = { 'volume.kubernetes.io/storage-provisioner': 'drover.io/local-path' };
const onNode = { ...handed, 'volume.kubernetes.io/selected-node': 'n1' };
const volume = (phase: string, reclaim = 'Delete', ours = true): KubeObject => ({
  metadata: {
    name: 'pvc-u1',
    annotations: ours ? { 'pv.kubernetes.io/provisioned-by': 'drover.io/local-path' } : {},
  },
  spec: { persistentVolumeReclaimPolicy: reclaim, local: { path: '/x/pvc-u1' } },
  status: { phase },
});
const SC = (o: KubeObject): [Resource, KubeObject] => [resources.storageClasses, o];
const C = (o: KubeObject): [Resource, KubeObject] => [resources.persistentVolumeClaims, o];
const V = (o: KubeObject): [Resource, KubeObject] => [resources.persistentVolumes, o];

interface Case {
  name: string;
  key: string;
  objects: [Resource, KubeObject][];
  want: string[];
  check?: (pv: PersistentVolume | undefined) => void;
}

const cases: Case[] = [
  {
    name: 'provisions a local volume on the selected node, pre-bound to the claim',
    key: 'claim:default/data',
    objects: [SC(cls({ nodePath: '/data/storage/' })), C(claim(onNode))],
    want: ['create persistentvolumes', 'create events', 'create events'],
    check: (pv) => {
      assert.equal(pv?.spec?.local?.path, '/data/storage/pvc-u1_default_data');
      assert.equal(pv?.spec?.capacity?.storage, '2Gi');
      assert.equal(pv?.spec?.persistentVolumeReclaimPolicy, 'Delete');
      assert.equal(pv?.spec?.storageClassName, 'local-path');
      assert.deepEqual(pv?.spec?.claimRef?.uid, 'u1');
      assert.deepEqual(pv?.metadata.finalizers, [cleanupFinalizer]);
      const term = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0];
      assert.deepEqual(term?.matchExpressions?.[0]?.values, ['n1']);
    },
  },
  {
    name: "the node's own volume directory wins over the class parameter",
    key: 'claim:default/data',
    objects: [
      SC(cls({ nodePath: '/data/storage' })),
      [resources.nodes, { metadata: { name: 'n1', annotations: { 'drover.io/local-path-dir': '/srv/n1' } } }],
      C(claim(onNode)),
    ],
    want: ['create persistentvolumes', 'create events', 'create events'],
    check: (pv) => assert.equal(pv?.spec?.local?.path, '/srv/n1/pvc-u1_default_data'),
  },
  {
    name: 'waits until the binder hands the claim over',
    key: 'claim:default/data',
    objects: [SC(cls()), C(claim({ 'volume.kubernetes.io/selected-node': 'n1' }))],
    want: [],
  },
  {
    name: 'ignores claims of other provisioners',
    key: 'claim:default/data',
    objects: [SC(cls({ provisioner: 'example.com/other' })), C(claim(onNode))],
    want: [],
  },
  {
    name: 'a claim without a node cannot be provisioned (warning event)',
    key: 'claim:default/data',
    objects: [SC(cls()), C(claim(handed))],
    want: ['create events'],
  },
  {
    name: 'the volume already exists: nothing to do',
    key: 'claim:default/data',
    objects: [SC(cls()), C(claim(onNode)), V(volume('Pending'))],
    want: [],
  },
  {
    name: 'a Released volume with reclaim policy Delete is deleted',
    key: 'volume:pvc-u1',
    objects: [SC(cls()), V(volume('Released'))],
    want: ['delete persistentvolumes pvc-u1'],
  },
  {
    name: 'Retain keeps a Released volume',
    key: 'volume:pvc-u1',
    objects: [SC(cls()), V(volume('Released', 'Retain'))],
    want: [],
  },
  {
    name: 'a Bound volume stays',
    key: 'volume:pvc-u1',
    objects: [SC(cls()), V(volume('Bound'))],
    want: [],
  },
  {
    name: 'volumes of other provisioners are not deleted',
    key: 'volume:pvc-u1',
    objects: [SC(cls()), V(volume('Released', 'Delete', false))],
    want: [],
  },
];

for (const tc of cases) {
  test(`local-path-provisioner: ${tc.name}`, async () => {
    const c = await fakeCluster(newLocalPathProvisioner, tc.objects);
    try {
      await c.controller.reconcile(tc.key);
      await c.settle();
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      tc.check?.(c.client.peek<PersistentVolume>(resources.persistentVolumes, 'pvc-u1'));
    } finally {
      await c.stop();
    }
  });
}
