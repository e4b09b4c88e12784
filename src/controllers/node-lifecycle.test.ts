import assert from 'node:assert/strict';
import test from 'node:test';
import {
  type Condition,
  type KubeObject,
  type Lease,
  type Node,
  type Pod,
  type Resource,
  resources,
  type Toleration,
} from '../client/index.ts';
import { timestamp } from './controller.ts';
import { fakeCluster, start, writeLog } from './fake-cluster.ts';
import { nodeLifecycleFactory } from './node-lifecycle.ts';
import { newTaintEvictionController } from './node-lifecycle-eviction.ts';
import { evictionVerdict, taintKeys } from './node-lifecycle-taints.ts';

const t0 = timestamp(start);
const cond = (type: string, status: 'True' | 'False' | 'Unknown'): Condition => ({
  type,
  status,
  lastHeartbeatTime: t0,
  lastTransitionTime: t0,
});
const node = (
  name: string,
  ready: Condition['status'] = 'True',
  extra: Partial<Node['spec']> = {},
): Node => ({
  metadata: { name, creationTimestamp: t0 },
  spec: { ...extra },
  status: { conditions: [cond('Ready', ready), cond('MemoryPressure', 'False')] },
});
const lease = (name: string, renew = t0): Lease => ({
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, renewTime: renew },
});
const pod = (name: string, nodeName: string, tolerations: Toleration[] = []): Pod => ({
  metadata: { name, namespace: 'ns', creationTimestamp: t0 },
  spec: { nodeName, containers: [{ name: 'c' }], tolerations },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

const drain = async (c: Awaited<ReturnType<typeof fakeCluster>>) => {
  for (let i = 0; i < 50 && c.controller.queue.length > 0; i++) {
    const k = await c.controller.queue.get();
    if (!k) break;
    try {
      await c.controller.reconcile(k);
    } finally {
      c.controller.queue.done(k);
    }
    await c.settle();
  }
};

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  /** How long (ms) nothing renews before the controller looks. */
  silentMs: number;
  want: string[];
  ready: string;
  taints: string[];
}

const cases: Case[] = [
  {
    name: 'a node renewing its lease is left alone',
    objects: [
      [resources.nodes, node('a')],
      [resources.leases, lease('a')],
    ],
    silentMs: 5_000,
    want: [],
    ready: 'True',
    taints: [],
  },
  {
    name: 'a silent node goes Unknown, gets the unreachable taints, and its pods go not Ready',
    objects: [
      [resources.nodes, node('a')],
      [resources.leases, lease('a')],
      [resources.pods, pod('p', 'a')],
    ],
    silentMs: 41_000,
    want: ['update nodes/status a', 'update nodes a', 'update pods/status p', 'create events'],
    ready: 'Unknown',
    taints: [`${taintKeys.unreachable}:NoSchedule`, `${taintKeys.unreachable}:NoExecute`],
  },
  {
    name: 'a node reporting Ready=False gets the not-ready taints',
    objects: [
      [resources.nodes, node('a', 'False')],
      [resources.leases, lease('a')],
    ],
    silentMs: 1_000,
    want: ['update nodes a'],
    ready: 'False',
    taints: [`${taintKeys.notReady}:NoSchedule`, `${taintKeys.notReady}:NoExecute`],
  },
  {
    name: 'a cordoned node gets the unschedulable taint; a recovered one loses the unreachable ones',
    objects: [
      [
        resources.nodes,
        node('a', 'True', {
          unschedulable: true,
          taints: [
            { key: taintKeys.unreachable, effect: 'NoExecute', timeAdded: t0 },
            { key: 'team', value: 'x', effect: 'NoSchedule' },
          ],
        }),
      ],
      [resources.leases, lease('a')],
    ],
    silentMs: 1_000,
    want: ['update nodes a'],
    ready: 'True',
    taints: ['team:NoSchedule', `${taintKeys.unschedulable}:NoSchedule`],
  },
];

for (const tc of cases) {
  test(`nodelifecycle: ${tc.name}`, async () => {
    const c = await fakeCluster(nodeLifecycleFactory({ gracePeriodMs: 40_000 }), tc.objects);
    try {
      await drain(c);
      await c.clock.advance(tc.silentMs);
      await drain(c);
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      const n = c.client.peek(resources.nodes, 'a') as Node;
      const ready = n.status?.conditions?.find((x) => x.type === 'Ready');
      assert.equal(ready?.status, tc.ready);
      if (tc.ready === 'Unknown') {
        assert.equal(ready?.reason, 'NodeStatusUnknown');
        assert.equal(ready?.message, 'Kubelet stopped posting node status.');
        const mem = n.status?.conditions?.find((x) => x.type === 'MemoryPressure');
        assert.equal(mem?.status, 'Unknown');
        const p = c.client.peek(resources.pods, 'ns/p') as Pod;
        assert.equal(p.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'False');
      }
      assert.deepEqual(
        (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
        tc.taints,
      );
    } finally {
      await c.stop();
    }
  });
}

test('nodelifecycle: a lease renewed in time keeps the node Ready past the grace period', async () => {
  const c = await fakeCluster(nodeLifecycleFactory({ gracePeriodMs: 40_000 }), [
    [resources.nodes, node('a')],
    [resources.leases, lease('a')],
  ]);
  try {
    await drain(c);
    await c.clock.advance(30_000);
    const l = c.client.peek(resources.leases, 'kube-node-lease/a') as Lease;
    await c.client.update(resources.leases, {
      ...l,
      spec: { ...l.spec, renewTime: timestamp(start + 30_000) },
    });
    await c.settle();
    await drain(c);
    c.client.clearActions();
    await c.clock.advance(30_000);
    await drain(c);
    assert.deepEqual(writeLog(c.client), []);
  } finally {
    await c.stop();
  }
});

interface EvictCase {
  name: string;
  tolerations: Toleration[];
  /** Seconds after the taint when the pod is looked at. */
  after: number;
  evicted: boolean;
}

const evictCases: EvictCase[] = [
  { name: 'no toleration: evicted at once', tolerations: [], after: 0, evicted: true },
  {
    name: 'tolerated for 2 s: kept at 1 s',
    tolerations: [
      { key: taintKeys.unreachable, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    ],
    after: 1,
    evicted: false,
  },
  {
    name: 'tolerated for 2 s: evicted at 2 s',
    tolerations: [
      { key: taintKeys.unreachable, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    ],
    after: 2,
    evicted: true,
  },
  {
    name: 'tolerated forever: kept',
    tolerations: [{ operator: 'Exists' }],
    after: 3600,
    evicted: false,
  },
];

for (const tc of evictCases) {
  test(`taint-eviction: ${tc.name}`, async () => {
    const tainted = node('a', 'Unknown', {
      taints: [{ key: taintKeys.unreachable, effect: 'NoExecute', timeAdded: t0 }],
    });
    const c = await fakeCluster(newTaintEvictionController, [
      [resources.nodes, tainted],
      [resources.pods, pod('p', 'a', tc.tolerations)],
    ]);
    try {
      await drain(c);
      await c.clock.advance(tc.after * 1000);
      await drain(c);
      const log = writeLog(c.client);
      if (tc.evicted) {
        assert.ok(log.includes('delete pods p'), log.join(', '));
        assert.ok(log.includes('update pods/status p'));
      } else assert.ok(!log.includes('delete pods p'), log.join(', '));
    } finally {
      await c.stop();
    }
  });
}

test('evictionVerdict: the shortest toleration wins; a pod created after the taint gets its full time', () => {
  const taint = { key: taintKeys.notReady, effect: 'NoExecute' as const, timeAdded: t0 };
  const tols = [
    { key: taintKeys.notReady, operator: 'Exists' as const, tolerationSeconds: 300 },
    { operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 60 },
  ];
  assert.deepEqual(evictionVerdict([taint], tols, start), { now: false, at: start + 60_000 });
  assert.deepEqual(evictionVerdict([taint], tols, start + 10_000), { now: false, at: start + 70_000 });
  assert.deepEqual(evictionVerdict([{ ...taint, effect: 'NoSchedule' }], [], start), { now: false });
});
