import assert from 'node:assert/strict';
import test from 'node:test';
import {
  type DaemonSet,
  type KubeObject,
  type Node,
  type Pod,
  type Resource,
  resources,
  type Taint,
} from '../client/index.ts';
import { timestamp } from './controller.ts';
import { newRevision } from './controller-revision.ts';
import { newDaemonSetController } from './daemonset.ts';
import { hashOf } from './daemonset-history.ts';
import { nodeShouldRunDaemonPod, targetNodeName } from './daemonset-pods.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';

const t0 = timestamp(start - 60_000);
const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  spec: { taints },
});

const daemonSet = (
  o: { image?: string; selector?: Record<string, string>; strategy?: unknown } = {},
): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', generation: 1 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: {
        containers: [{ name: 'c', image: o.image ?? 'busybox:1' }],
        ...(o.selector ? { nodeSelector: o.selector } : {}),
      },
    },
    updateStrategy: o.strategy ?? {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    },
    revisionHistoryLimit: 10,
  },
});

/** The hash the controller gives the template of `ds`. */
const hashFor = (ds: DaemonSet) =>
  hashOf(newRevision({ owner: ds, apiVersion: 'apps/v1', kind: 'DaemonSet', revision: 1 }));

const daemonPod = (name: string, nodeName: string, hash: string, phase = 'Running'): Pod => ({
  metadata: {
    name,
    namespace: 'ns',
    creationTimestamp: t0,
    labels: { app: 'agent', 'controller-revision-hash': hash },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true },
    ],
  },
  spec: { nodeName, containers: [{ name: 'c' }] },
  status: {
    phase: phase as Pod['status'] extends infer S ? (S extends { phase?: infer P } ? P : never) : never,
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t0 }],
  },
});

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  /** Nodes that get a new pod, sorted. */
  created: string[];
  deleted: string[];
}

const old = daemonSet({ image: 'busybox:0' });
const oldHash = hashFor(old);
const curHash = hashFor(daemonSet());
const three = [node('n1'), node('n2'), node('n3')].map((n): [Resource, KubeObject] => [resources.nodes, n]);
const oldPods = ['n1', 'n2', 'n3'].map((n): [Resource, KubeObject] => [
  resources.pods,
  daemonPod(`agent-${n}`, n, oldHash),
]);

const cases: Case[] = [
  {
    name: 'one pod per node, honouring the nodeSelector',
    objects: [
      [resources.daemonSets, daemonSet({ selector: { role: 'edge' } })],
      [resources.nodes, node('n1', { role: 'edge' })],
      [resources.nodes, node('n2', { role: 'edge' })],
      [resources.nodes, node('n3')],
    ],
    created: ['n1', 'n2'],
    deleted: [],
  },
  {
    name: 'untolerated NoSchedule taints keep pods off; cordoned and not-ready nodes still get one',
    objects: [
      [resources.daemonSets, daemonSet()],
      [resources.nodes, node('n1', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }])],
      [resources.nodes, node('n2', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }])],
      [resources.nodes, node('n3', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }])],
    ],
    created: ['n2', 'n3'],
    deleted: [],
  },
  {
    name: 'an untolerated NoExecute taint removes the pod; a failed pod is deleted; a surplus pod goes',
    objects: [
      [resources.daemonSets, daemonSet()],
      [resources.nodes, node('n1', {}, [{ key: 'dedicated', effect: 'NoExecute' }])],
      [resources.nodes, node('n2')],
      [resources.nodes, node('n3')],
      [resources.pods, daemonPod('agent-n1', 'n1', curHash)],
      [resources.pods, daemonPod('agent-n2', 'n2', curHash, 'Failed')],
      [resources.pods, daemonPod('agent-n3a', 'n3', curHash)],
      [
        resources.pods,
        {
          ...daemonPod('agent-n3b', 'n3', curHash),
          metadata: {
            ...daemonPod('agent-n3b', 'n3', curHash).metadata,
            creationTimestamp: timestamp(start),
          },
        },
      ],
    ],
    created: [],
    deleted: ['agent-n1', 'agent-n2', 'agent-n3b'],
  },
  {
    name: 'rolling update with maxUnavailable 1 replaces one old pod at a time',
    objects: [[resources.daemonSets, daemonSet()], ...three, ...oldPods],
    created: [],
    deleted: ['agent-n1'],
  },
  {
    name: 'rolling update with maxUnavailable 2 replaces two',
    objects: [
      [
        resources.daemonSets,
        daemonSet({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }),
      ],
      ...three,
      ...oldPods,
    ],
    created: [],
    deleted: ['agent-n1', 'agent-n2'],
  },
  {
    name: 'rolling update with maxSurge 1 starts a new pod beside the old one first',
    objects: [
      [
        resources.daemonSets,
        daemonSet({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }),
      ],
      ...three,
      ...oldPods,
    ],
    created: ['n1'],
    deleted: [],
  },
  {
    name: 'OnDelete leaves old pods alone',
    objects: [[resources.daemonSets, daemonSet({ strategy: { type: 'OnDelete' } })], ...three, ...oldPods],
    created: [],
    deleted: [],
  },
];

for (const tc of cases) {
  test(`daemonset: ${tc.name}`, async () => {
    const c = await fakeCluster(newDaemonSetController, tc.objects);
    try {
      await c.controller.reconcile('ns/agent');
      const creates = c.client.writes().filter((a) => a.verb === 'create' && a.resource === 'pods');
      const nodes = creates.map((a) => targetNodeName(a.object as Pod) ?? '').sort();
      assert.deepEqual(nodes, tc.created);
      const want = hashFor(c.client.peek(resources.daemonSets, 'ns/agent') as DaemonSet);
      for (const a of creates) {
        const p = a.object as Pod;
        assert.equal(p.spec?.nodeName, undefined, 'the scheduler binds daemon pods');
        assert.equal(p.metadata.labels?.['controller-revision-hash'], want);
        assert.ok(p.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable'));
      }
      const deletes = writeLog(c.client).filter((w) => w.startsWith('delete pods'));
      assert.deepEqual(deletes.map((w) => w.split(' ')[2]).sort(), tc.deleted);
    } finally {
      await c.stop();
    }
  });
}

test('daemonset: status counts and a ControllerRevision for the template', async () => {
  const notReady = daemonPod('agent-n2', 'n2', oldHash);
  notReady.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] };
  const c = await fakeCluster(newDaemonSetController, [
    [resources.daemonSets, daemonSet({ strategy: { type: 'OnDelete' } })],
    [resources.nodes, node('n1')],
    [resources.nodes, node('n2')],
    [resources.nodes, node('n3', {}, [{ key: 'x', effect: 'NoSchedule' }])],
    [resources.pods, daemonPod('agent-n1', 'n1', curHash)],
    [resources.pods, notReady],
    [resources.pods, daemonPod('agent-n3', 'n3', curHash)],
  ]);
  try {
    await c.controller.reconcile('ns/agent');
    const ds = c.client.peek(resources.daemonSets, 'ns/agent') as DaemonSet;
    assert.deepEqual(ds.status, {
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      desiredNumberScheduled: 2,
      numberReady: 1,
      observedGeneration: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      numberUnavailable: 1,
    });
    const revs = c.client.writes().filter((a) => a.resource === 'controllerrevisions');
    assert.equal(revs.length, 1);
    const cr = revs[0]?.object as KubeObject & { revision?: number };
    assert.equal(cr.metadata.name, `agent-${curHash}`);
    assert.equal(cr.revision, 1);
  } finally {
    await c.stop();
  }
});

test('nodeShouldRunDaemonPod: node affinity terms of the template are honoured', () => {
  const ds = daemonSet();
  const spec = ds.spec?.template?.spec as Record<string, unknown>;
  spec.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
      },
    },
  };
  assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { zone: 'a' }), ds), {
    shouldRun: true,
    shouldContinueRunning: true,
  });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n2', { zone: 'b' }), ds), {
    shouldRun: false,
    shouldContinueRunning: false,
  });
});

test('daemonset: a daemon that keeps failing is replaced with back-off', async () => {
  const c = await fakeCluster(newDaemonSetController, [
    [resources.daemonSets, daemonSet()],
    [resources.nodes, node('n1')],
    [resources.pods, daemonPod('agent-a', 'n1', curHash, 'Failed')],
  ]);
  try {
    await c.controller.reconcile('ns/agent');
    assert.ok(writeLog(c.client).includes('delete pods agent-a'));
    await c.client.create(resources.pods, {
      ...daemonPod('agent-b', 'n1', curHash, 'Failed'),
      metadata: {
        ...daemonPod('agent-b', 'n1', curHash).metadata,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: c.uid('ds-uid'), controller: true },
        ],
      },
    });
    await c.settle();
    c.client.clearActions();
    await c.controller.reconcile('ns/agent');
    assert.ok(!writeLog(c.client).includes('delete pods agent-b'), 'backing off');
    await c.clock.advance(1000);
    await c.controller.reconcile('ns/agent');
    assert.ok(writeLog(c.client).includes('delete pods agent-b'));
  } finally {
    await c.stop();
  }
});
