import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { fakeCluster } from './fake-cluster.ts';
import { newResourceQuotaController } from './resource-quota.ts';

const quota = (hard: Record<string, string>): KubeObject => ({
  metadata: { name: 'q', namespace: 'team' },
  spec: { hard },
});
const pod = (
  name: string,
  res: Record<string, unknown> = {},
  phase = 'Running',
  ns = 'team',
): KubeObject => ({
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: res }] },
  status: { phase },
});
const obj = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'team' },
  spec,
});

interface Case {
  name: string;
  hard: Record<string, string>;
  objects: [Resource, KubeObject][];
  want: Record<string, string>;
}

const cases: Case[] = [
  {
    name: 'pods and compute: finished pods and other namespaces do not count',
    hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '1Gi', cpu: '4' },
    objects: [
      [resources.pods, pod('a', { requests: { cpu: '250m' }, limits: { memory: '128Mi' } })],
      [resources.pods, pod('b', { limits: { cpu: '500m', memory: '64Mi' } })],
      [resources.pods, pod('done', { requests: { cpu: '1' } }, 'Succeeded')],
      [resources.pods, pod('elsewhere', { requests: { cpu: '1' } }, 'Running', 'other')],
    ],
    want: { pods: '2', 'requests.cpu': '750m', 'limits.memory': '192Mi', cpu: '750m' },
  },
  {
    name: 'object counts, legacy and count/ names',
    hard: {
      services: '5',
      'services.nodeports': '4',
      configmaps: '5',
      'count/secrets': '5',
      'count/deployments.apps': '3',
    },
    objects: [
      [resources.services, obj('s1', { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] })],
      [resources.services, obj('s2', { type: 'ClusterIP', ports: [{ port: 80 }] })],
      [resources.configMaps, obj('c1')],
      [resources.secrets, obj('x1')],
      [resources.secrets, obj('x2')],
      [resources.deployments, obj('d1')],
    ],
    want: {
      services: '2',
      'services.nodeports': '2',
      configmaps: '1',
      'count/secrets': '2',
      'count/deployments.apps': '1',
    },
  },
  {
    name: 'claims and their storage',
    hard: { persistentvolumeclaims: '4', 'requests.storage': '10Gi' },
    objects: [
      [resources.persistentVolumeClaims, obj('v1', { resources: { requests: { storage: '1Gi' } } })],
      [resources.persistentVolumeClaims, obj('v2', { resources: { requests: { storage: '512Mi' } } })],
    ],
    want: { persistentvolumeclaims: '2', 'requests.storage': '1536Mi' },
  },
  {
    name: 'an empty namespace uses zero',
    hard: { pods: '1', 'requests.memory': '1Gi' },
    objects: [],
    want: { pods: '0', 'requests.memory': '0' },
  },
];

async function syncUntilWritten(c: Awaited<ReturnType<typeof fakeCluster>>): Promise<KubeObject | undefined> {
  // The first reconcile makes the informers for what the quota counts; later ones find them synced.
  for (let i = 0; i < 50; i++) {
    await c.controller.reconcile('team/q');
    const w = c.client.writes().find((a) => a.subresource === 'status');
    if (w) return w.object as KubeObject;
    await c.settle();
  }
  return undefined;
}

for (const tc of cases) {
  test(`resourcequota: ${tc.name}`, async () => {
    const c = await fakeCluster(newResourceQuotaController, [
      [resources.resourceQuotas, quota(tc.hard)],
      ...tc.objects,
    ]);
    try {
      const written = await syncUntilWritten(c);
      assert.deepEqual(written?.status?.used, tc.want);
      assert.deepEqual(written?.status?.hard, tc.hard);
    } finally {
      await c.stop();
    }
  });
}

test('resourcequota: a deleted pod releases its usage', async () => {
  const c = await fakeCluster(newResourceQuotaController, [
    [resources.resourceQuotas, quota({ pods: '3' })],
    [resources.pods, pod('a')],
    [resources.pods, pod('b')],
  ]);
  try {
    assert.deepEqual((await syncUntilWritten(c))?.status?.used, { pods: '2' });
    await c.settle();
    while (c.controller.queue.length > 0) {
      const k = await c.controller.queue.get();
      if (k) c.controller.queue.done(k);
    }
    await c.client.delete(resources.pods, 'a', { namespace: 'team' });
    await c.until(() => c.controller.queue.length === 1, 'quota queued');
    await c.settle();
    await c.controller.reconcile('team/q');
    assert.deepEqual(c.client.peek(resources.resourceQuotas, 'team/q')?.status?.used, { pods: '1' });
  } finally {
    await c.stop();
  }
});
