import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Pod, type Resource, resources } from '../client/index.ts';
import { type Endpoints, newEndpointsController } from './endpoints.ts';
import { type FakeCluster, fakeCluster, writeLog } from './fake-cluster.ts';
import { podFixture, serviceFixture } from './service-fixtures.ts';
import type { Service } from './service-pods.ts';

const svc = (spec?: Service['spec']): Service => serviceFixture(spec, { app: 'web' });
const pod = podFixture;
const S = (o: KubeObject): [Resource, KubeObject] => [resources.services, o];
const P = (o: KubeObject): [Resource, KubeObject] => [resources.pods, o];
const E = (o: KubeObject): [Resource, KubeObject] => [resources.endpoints, o];

/** `ip:port` per subset, ready and not ready, as kubectl describe shows them. */
function shape(e: Endpoints | undefined): { ready: string[]; notReady: string[] }[] {
  return (e?.subsets ?? []).map((s) => {
    const ports = (s.ports ?? []).map((p) => p.port).join('+');
    return {
      ready: (s.addresses ?? []).map((a) => `${a.ip}:${ports}`),
      notReady: (s.notReadyAddresses ?? []).map((a) => `${a.ip}:${ports}`),
    };
  });
}

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  subsets?: { ready: string[]; notReady: string[] }[];
  check?: (e: Endpoints | undefined, c: FakeCluster) => void;
}

const cases: Case[] = [
  {
    name: 'ready pods as addresses, not-ready ones as notReadyAddresses; terminating and terminated left out',
    objects: [
      S(svc()),
      P(pod('p2')),
      P(pod('p1')),
      P(pod('p3', { ready: false })),
      P(pod('p4', { terminating: true })),
      P(pod('p5', { phase: 'Failed' })),
      P(pod('p6', { ip: null })),
    ],
    want: ['create endpoints'],
    subsets: [{ ready: ['10.42.0.1:8080', '10.42.0.2:8080'], notReady: ['10.42.0.3:8080'] }],
    check: (e) => {
      assert.deepEqual(e?.metadata.labels, { app: 'web' });
      const a = e?.subsets?.[0]?.addresses?.[0];
      assert.equal(a?.nodeName, 'n1');
      assert.equal(a?.targetRef?.name, 'p1');
      assert.deepEqual(e?.subsets?.[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    },
  },
  {
    name: 'publishNotReadyAddresses: every pod ready, terminating ones too',
    objects: [
      S(svc({ publishNotReadyAddresses: true })),
      P(pod('p1', { ready: false })),
      P(pod('p2', { terminating: true })),
    ],
    want: ['create endpoints'],
    subsets: [{ ready: ['10.42.0.1:8080', '10.42.0.2:8080'], notReady: [] }],
  },
  {
    name: 'no pods: an Endpoints object without subsets',
    objects: [S(svc())],
    want: ['create endpoints'],
    subsets: [],
  },
  {
    name: 'named targetPort: a subset per resolution',
    objects: [
      S(svc({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] })),
      P(pod('p1', { ports: [{ name: 'web', containerPort: 8080 }] })),
      P(pod('p2', { ports: [{ name: 'web', containerPort: 9090 }] })),
    ],
    want: ['create endpoints'],
    subsets: [
      { ready: ['10.42.0.1:8080'], notReady: [] },
      { ready: ['10.42.0.2:9090'], notReady: [] },
    ],
  },
  {
    name: 'headless Service with StatefulSet-style pods: hostnames and the headless label',
    objects: [S(svc({ clusterIP: 'None' })), P(pod('p1', { hostname: 'web-0', subdomain: 'web' }))],
    want: ['create endpoints'],
    check: (e) => {
      assert.equal(e?.subsets?.[0]?.addresses?.[0]?.hostname, 'web-0');
      assert.equal(e?.metadata.labels?.['service.kubernetes.io/headless'], '');
    },
  },
  {
    name: 'selector-less Service: hand-written Endpoints are left alone',
    objects: [
      S(svc({ selector: undefined })),
      E({ metadata: { name: 'web', namespace: 'default' }, subsets: [] }),
    ],
    want: [],
  },
  {
    name: 'an out-of-date object is updated',
    objects: [
      S(svc()),
      P(pod('p1')),
      E({ metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } }, subsets: [] }),
    ],
    want: ['update endpoints web'],
    subsets: [{ ready: ['10.42.0.1:8080'], notReady: [] }],
  },
];

for (const tc of cases) {
  test(`endpoints: ${tc.name}`, async () => {
    const c = await fakeCluster(newEndpointsController, tc.objects);
    try {
      await c.controller.reconcile('default/web');
      await c.client.settle();
      await c.controller.reconcile('default/web'); // nothing left to write
      assert.deepEqual(writeLog(c.client), tc.want);
      const e = c.client.peek<Endpoints>(resources.endpoints, 'default/web');
      if (tc.subsets) assert.deepEqual(shape(e), tc.subsets);
      tc.check?.(e, c);
    } finally {
      await c.stop();
    }
  });
}

test('endpoints: deleted with its Service; a pod change updates at once', async () => {
  const c = await fakeCluster(newEndpointsController, [S(svc()), P(pod('p1'))]);
  try {
    await c.controller.reconcile('default/web');
    await c.client.settle();
    const p = c.client.peek<Pod>(resources.pods, 'default/p1');
    assert.ok(p?.status?.conditions?.[0]);
    p.status.conditions[0].status = 'False';
    await c.client.updateStatus(resources.pods, p);
    await c.client.settle();
    // No settle between the write and this reconcile is needed: it reads its own write if the cache lags.
    await c.controller.reconcile('default/web');
    assert.deepEqual(shape(c.client.peek(resources.endpoints, 'default/web')), [
      { ready: [], notReady: ['10.42.0.1:8080'] },
    ]);
    await c.client.delete(resources.services, 'web', { namespace: 'default' });
    await c.client.settle();
    c.client.clearActions();
    await c.controller.reconcile('default/web');
    assert.deepEqual(writeLog(c.client), ['delete endpoints web']);
  } finally {
    await c.stop();
  }
});

test('endpoints: a sync right after its own write (cache behind) writes nothing more', async () => {
  const c = await fakeCluster(newEndpointsController, [S(svc()), P(pod('p1'))]);
  try {
    await c.controller.reconcile('default/web');
    await c.controller.reconcile('default/web');
    assert.deepEqual(writeLog(c.client), ['create endpoints']);
  } finally {
    await c.stop();
  }
});

test('endpoints: objects whose Service went while no controller ran are deleted at start', async () => {
  const c = await fakeCluster(newEndpointsController, [
    E({ metadata: { name: 'web', namespace: 'default' }, subsets: [] }),
    E({
      metadata: {
        name: 'lock',
        namespace: 'default',
        annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' },
      },
    }),
  ]);
  try {
    const keys: string[] = [];
    while (c.controller.queue.length > 0) {
      const k = await c.controller.queue.get();
      if (k) {
        keys.push(k);
        await c.controller.reconcile(k);
        c.controller.queue.done(k);
      }
    }
    assert.deepEqual(keys, ['default/web']);
    assert.deepEqual(writeLog(c.client), ['delete endpoints web']);
  } finally {
    await c.stop();
  }
});
