import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Pod, type Resource, resources, type StatefulSet } from '../client/index.ts';
import { type ControllerRevision, newRevision } from './controller-revision.ts';
import { type FakeCluster, fakeCluster, start, writeLog } from './fake-cluster.ts';
import { newStatefulSetController } from './statefulset.ts';

const labels = { app: 'db' };
const setUid = 'sts-uid';
const image = (tag: string) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: `busybox:${tag}` }] },
});
const sts = (
  replicas: number,
  o: { tag?: string; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {},
): StatefulSet => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: 'default', uid: setUid, generation: 1 },
  spec: {
    replicas,
    serviceName: 'db',
    selector: { matchLabels: labels },
    template: image(o.tag ?? 'v1'),
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ],
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    ...o.spec,
  },
  ...(o.status ? { status: o.status } : {}),
});
/** The revision a set with template `tag` records. */
const rev = (tag: string, revision = 1): ControllerRevision =>
  newRevision({
    owner: { ...sts(1, { tag }), metadata: { ...sts(1).metadata } },
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    revision,
  });
const revName = (tag: string) => rev(tag).metadata.name ?? '';
const pod = (
  ord: number,
  o: { ready?: boolean; tag?: string; phase?: string; readyAt?: number } = {},
): Pod => ({
  metadata: {
    name: `db-${ord}`,
    namespace: 'default',
    labels: {
      ...labels,
      'statefulset.kubernetes.io/pod-name': `db-${ord}`,
      'apps.kubernetes.io/pod-index': String(ord),
      'controller-revision-hash': revName(o.tag ?? 'v1'),
    },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: setUid, controller: true },
    ],
  },
  spec: { containers: [{ name: 'c', image: `busybox:${o.tag ?? 'v1'}` }], nodeName: 'n1' },
  status: {
    phase: (o.phase ?? 'Running') as 'Running',
    conditions: [
      {
        type: 'Ready',
        status: o.ready === false ? 'False' : 'True',
        lastTransitionTime: new Date(start + (o.readyAt ?? -3600) * 1000)
          .toISOString()
          .replace(/\.\d+Z$/, 'Z'),
      },
    ],
  },
});
const claim = (ord: number): KubeObject => ({
  metadata: { name: `data-db-${ord}`, namespace: 'default', labels },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});
const S = (s: KubeObject): [Resource, KubeObject] => [resources.statefulSets, s];
const P = (p: KubeObject): [Resource, KubeObject] => [resources.pods, p];
const C = (p: KubeObject): [Resource, KubeObject] => [resources.persistentVolumeClaims, p];
const R = (r: ControllerRevision): [Resource, KubeObject] => [resources.controllerRevisions, r];
const v1Status = { currentRevision: revName('v1'), updateRevision: revName('v1') };
const ready3 = [P(pod(0)), P(pod(1)), P(pod(2)), C(claim(0)), C(claim(1)), C(claim(2)), R(rev('v1'))];

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  status?: Record<string, unknown>;
  check?: (pods: Pod[], c: FakeCluster) => void | Promise<void>;
}

const cases: Case[] = [
  {
    name: 'OrderedReady creates ordinal 0 first, with its claim, identity and revision',
    objects: [S(sts(3))],
    want: [
      'create controllerrevisions',
      'create persistentvolumeclaims',
      'create pods',
      'create events',
      'create events',
      'update statefulsets/status db',
    ],
    status: { replicas: 1, readyReplicas: 0, updatedReplicas: 1, updateRevision: revName('v1') },
    check: (pods) => {
      assert.deepEqual(
        pods.map((p) => p.metadata.name),
        ['db-0'],
      );
      const p = pods[0];
      assert.equal(p?.spec?.hostname, 'db-0');
      assert.equal(p?.spec?.subdomain, 'db');
      assert.equal(p?.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'db-0');
      assert.equal(p?.metadata.labels?.['apps.kubernetes.io/pod-index'], '0');
      assert.equal(p?.metadata.labels?.['controller-revision-hash'], revName('v1'));
      assert.deepEqual(p?.spec?.volumes, [
        { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } },
      ]);
    },
  },
  {
    name: 'OrderedReady waits while the previous pod is not ready',
    objects: [S(sts(3, { status: v1Status })), P(pod(0, { ready: false })), C(claim(0)), R(rev('v1'))],
    want: ['update statefulsets/status db'],
    status: { replicas: 1, readyReplicas: 0 },
  },
  {
    name: 'OrderedReady creates the next ordinal once the previous is ready',
    objects: [S(sts(3, { status: v1Status })), P(pod(0)), C(claim(0)), R(rev('v1'))],
    want: [
      'create persistentvolumeclaims',
      'create pods',
      'create events',
      'create events',
      'update statefulsets/status db',
    ],
    check: (pods) => assert.deepEqual(pods.map((p) => p.metadata.name).sort(), ['db-0', 'db-1']),
  },
  {
    name: 'OrderedReady waits for minReadySeconds before the next ordinal',
    objects: [
      S(sts(3, { status: v1Status, spec: { minReadySeconds: 30 } })),
      P(pod(0, { readyAt: -5 })),
      C(claim(0)),
      R(rev('v1')),
    ],
    want: ['update statefulsets/status db'],
    status: { readyReplicas: 1, availableReplicas: 0 },
  },
  {
    name: 'Parallel creates every missing pod at once',
    objects: [S(sts(3, { spec: { podManagementPolicy: 'Parallel' } }))],
    want: [
      'create controllerrevisions',
      ...Array(3).fill('create persistentvolumeclaims'),
      ...Array(3).fill('create pods'),
      ...Array(6).fill('create events'),
      'update statefulsets/status db',
    ],
  },
  {
    name: 'a deleted pod comes back under its name, re-using its existing claim',
    objects: [
      S(sts(3, { status: v1Status })),
      P(pod(0)),
      P(pod(2)),
      C(claim(0)),
      C(claim(1)),
      C(claim(2)),
      R(rev('v1')),
    ],
    want: ['create pods', 'create events', 'update statefulsets/status db'],
    check: (pods) => {
      const p = pods.find((x) => x.metadata.name === 'db-1');
      assert.deepEqual(p?.spec?.volumes, [
        { name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } },
      ]);
    },
  },
  {
    name: 'scaling down removes the highest ordinal first, one at a time; claims stay',
    objects: [S(sts(1, { status: v1Status })), ...ready3],
    want: ['delete pods db-2', 'create events', 'update statefulsets/status db'],
    status: { replicas: 2 },
  },
  {
    name: 'retention whenScaled Delete: the condemned pod becomes its claim owner before it goes',
    objects: [
      S(
        sts(2, {
          status: v1Status,
          spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } },
        }),
      ),
      ...ready3,
    ],
    want: [
      'patch persistentvolumeclaims data-db-2',
      'delete pods db-2',
      'create events',
      'update statefulsets/status db',
    ],
    check: async (_pods, c) => {
      const claim = c.client.peek<KubeObject>(resources.persistentVolumeClaims, 'default/data-db-2');
      assert.deepEqual(
        claim?.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}`),
        ['Pod/db-2'],
      );
    },
  },
  {
    name: 'retention whenDeleted Delete: new claims are owned by the set',
    objects: [
      S(
        sts(1, {
          spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } },
        }),
      ),
    ],
    want: [
      'create controllerrevisions',
      'create persistentvolumeclaims',
      'create pods',
      'create events',
      'create events',
      'update statefulsets/status db',
    ],
    check: async (_pods, c) => {
      const claim = c.client.peek<KubeObject>(resources.persistentVolumeClaims, 'default/data-db-0');
      assert.deepEqual(
        claim?.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}`),
        ['StatefulSet/db'],
      );
    },
  },
  {
    name: 'a failed pod is deleted to be re-created',
    objects: [
      S(sts(2, { status: v1Status })),
      P(pod(0)),
      P(pod(1, { phase: 'Failed' })),
      C(claim(0)),
      C(claim(1)),
      R(rev('v1')),
    ],
    want: ['delete pods db-1', 'create events', 'update statefulsets/status db'],
  },
  {
    name: 'RollingUpdate replaces the highest ordinal first',
    objects: [S(sts(3, { tag: 'v2', status: v1Status })), ...ready3],
    want: [
      'create controllerrevisions',
      'delete pods db-2',
      'create events',
      'update statefulsets/status db',
    ],
    status: {
      currentRevision: revName('v1'),
      updateRevision: revName('v2'),
      currentReplicas: 2,
      updatedReplicas: 0,
    },
  },
  {
    name: 'RollingUpdate waits for the updated pod to be ready before the next',
    objects: [
      S(sts(3, { tag: 'v2', status: v1Status })),
      P(pod(0)),
      P(pod(1)),
      P(pod(2, { tag: 'v2', ready: false })),
      C(claim(0)),
      C(claim(1)),
      C(claim(2)),
      R(rev('v1')),
      R(rev('v2', 2)),
    ],
    want: ['update statefulsets/status db'],
    status: { updatedReplicas: 1, currentReplicas: 2 },
  },
  {
    name: 'a partition keeps the ordinals below it at the current revision',
    objects: [
      S(
        sts(3, {
          tag: 'v2',
          status: v1Status,
          spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        }),
      ),
      P(pod(0)),
      P(pod(1)),
      P(pod(2, { tag: 'v2' })),
      C(claim(0)),
      C(claim(1)),
      C(claim(2)),
      R(rev('v1')),
      R(rev('v2', 2)),
    ],
    want: ['update statefulsets/status db'],
    status: { updatedReplicas: 1, currentReplicas: 2, currentRevision: revName('v1') },
  },
  {
    name: 'OnDelete leaves old pods alone',
    objects: [
      S(sts(3, { tag: 'v2', status: v1Status, spec: { updateStrategy: { type: 'OnDelete' } } })),
      ...ready3,
    ],
    want: ['create controllerrevisions', 'update statefulsets/status db'],
  },
  {
    name: 'a finished rollout makes the update revision current',
    objects: [
      S(sts(2, { tag: 'v2', status: v1Status })),
      P(pod(0, { tag: 'v2' })),
      P(pod(1, { tag: 'v2' })),
      C(claim(0)),
      C(claim(1)),
      R(rev('v1')),
      R(rev('v2', 2)),
    ],
    want: ['update statefulsets/status db'],
    status: { currentRevision: revName('v2'), currentReplicas: 2, updatedReplicas: 2, readyReplicas: 2 },
  },
  {
    name: 'rolling back re-uses the old revision with the next number',
    objects: [
      S(sts(1, { tag: 'v1', status: { currentRevision: revName('v2'), updateRevision: revName('v2') } })),
      P(pod(0, { tag: 'v2' })),
      C(claim(0)),
      R(rev('v1')),
      R(rev('v2', 2)),
    ],
    want: [
      'update controllerrevisions ' + revName('v1'),
      'delete pods db-0',
      'create events',
      'update statefulsets/status db',
    ],
  },
  {
    name: 'a selector that does not match the template creates nothing (a warning event only)',
    objects: [S(sts(2, { spec: { selector: { matchLabels: { app: 'other' } } } }))],
    want: ['create events'],
  },
];

for (const tc of cases) {
  test(`statefulset: ${tc.name}`, async () => {
    const c = await fakeCluster(newStatefulSetController, tc.objects);
    try {
      await c.controller.reconcile('default/db');
      await c.settle();
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      const stored = c.client.peek<StatefulSet>(resources.statefulSets, 'default/db');
      for (const [k, v] of Object.entries(tc.status ?? {})) assert.deepEqual(stored?.status?.[k], v, k);
      const pods = (await c.client.list<Pod>(resources.pods, { namespace: 'default' })).items;
      await tc.check?.(pods, c);
    } finally {
      await c.stop();
    }
  });
}

test('statefulset: history beyond revisionHistoryLimit is pruned, keeping revisions in use', async () => {
  const c = await fakeCluster(newStatefulSetController, [
    S(sts(1, { tag: 'v3', spec: { revisionHistoryLimit: 0 }, status: v1Status })),
    P(pod(0)),
    C(claim(0)),
    R(rev('v1')),
    R(rev('v2', 2)),
  ]);
  try {
    await c.controller.reconcile('default/db');
    const names = (await c.client.list(resources.controllerRevisions, { namespace: 'default' })).items
      .map((r) => r.metadata.name)
      .sort();
    assert.deepEqual(names, [revName('v1'), revName('v3')].sort());
  } finally {
    await c.stop();
  }
});

test('statefulset: a claim being deleted stops the pod from being created', async () => {
  const c = await fakeCluster(newStatefulSetController, [
    S(sts(1)),
    C({ ...claim(0), metadata: { ...claim(0).metadata, finalizers: ['x'] } }),
  ]);
  try {
    await c.client.delete(resources.persistentVolumeClaims, 'data-db-0', { namespace: 'default' });
    await c.settle();
    await assert.rejects(c.controller.reconcile('default/db'), /being deleted/);
    assert.equal(writeLog(c.client).filter((w) => w === 'create pods').length, 0);
  } finally {
    await c.stop();
  }
});
