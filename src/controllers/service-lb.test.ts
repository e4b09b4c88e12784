import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Node, type Resource, resources } from '../client/index.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';
import { type LoadBalancerService, newServiceLbController } from './service-lb.ts';

const node = (name: string, ip: string, ready = true, labels: Record<string, string> = {}): Node => ({
  metadata: { name, labels },
  status: {
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
  },
});
const svc = (type: string, extra: Partial<LoadBalancerService> = {}): LoadBalancerService => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { type, ports: [{ port: 80, nodePort: 30080 }] },
  status: { loadBalancer: {} },
  ...extra,
});
const N = (o: KubeObject): [Resource, KubeObject] => [resources.nodes, o];
const S = (o: KubeObject): [Resource, KubeObject] => [resources.services, o];
const ingress = (...ips: string[]) => ({ ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' as const })) });

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  status?: unknown;
}

const cases: Case[] = [
  {
    name: 'the Ready nodes InternalIPs, sorted',
    objects: [
      S(svc('LoadBalancer')),
      N(node('b', '192.0.2.20')),
      N(node('a', '192.0.2.10')),
      N(node('c', '192.0.2.30', false)),
      N(node('d', '192.0.2.40', true, { 'svccontroller.k3s.cattle.io/enablelb': 'false' })),
    ],
    want: ['update services/status web'],
    status: ingress('192.0.2.10', '192.0.2.20'),
  },
  {
    name: 'already current: no write',
    objects: [
      S(svc('LoadBalancer', { status: { loadBalancer: ingress('192.0.2.10') } })),
      N(node('a', '192.0.2.10')),
    ],
    want: [],
  },
  {
    name: 'no Ready node: pending',
    objects: [S(svc('LoadBalancer')), N(node('a', '192.0.2.10', false))],
    want: [],
    status: {},
  },
  {
    name: 'no longer a LoadBalancer: status cleared',
    objects: [
      S(svc('NodePort', { status: { loadBalancer: ingress('192.0.2.10') } })),
      N(node('a', '192.0.2.10')),
    ],
    want: ['update services/status web'],
    status: {},
  },
  {
    name: 'another implementation (loadBalancerClass) is left alone',
    objects: [
      S({
        ...svc('LoadBalancer'),
        spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', ports: [] },
      }),
      N(node('a', '192.0.2.10')),
    ],
    want: [],
    status: {},
  },
];

for (const tc of cases) {
  test(`service-lb: ${tc.name}`, async () => {
    const c = await fakeCluster(newServiceLbController, tc.objects);
    try {
      await c.controller.reconcile('default/web');
      assert.deepEqual(writeLog(c.client), tc.want);
      if (tc.status !== undefined)
        assert.deepEqual(
          c.client.peek<LoadBalancerService>(resources.services, 'default/web')?.status?.loadBalancer,
          tc.status,
        );
    } finally {
      await c.stop();
    }
  });
}

test('service-lb: a node becoming Ready enqueues the LoadBalancer Services', async () => {
  const c = await fakeCluster(newServiceLbController, [
    S(svc('LoadBalancer')),
    N(node('a', '192.0.2.10', false)),
  ]);
  try {
    while (c.controller.queue.length > 0) {
      const k = await c.controller.queue.get();
      if (k) c.controller.queue.done(k);
    }
    const n = c.client.peek<Node>(resources.nodes, 'a');
    assert.ok(n?.status?.conditions?.[0]);
    n.status.conditions[0].status = 'True';
    await c.client.updateStatus(resources.nodes, n);
    await c.until(() => c.controller.queue.length === 1, 'the service to be queued');
    assert.equal(await c.controller.queue.get(), 'default/web');
  } finally {
    await c.stop();
  }
});
