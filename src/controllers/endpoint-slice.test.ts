import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Pod, type Resource, resources } from '../client/index.ts';
import { EndpointSliceController, managedBy, newEndpointSliceController } from './endpoint-slice.ts';
import type { EndpointSlice } from './endpoint-slice-plan.ts';
import { type FakeCluster, fakeCluster, writeLog } from './fake-cluster.ts';
import { podFixture, serviceFixture } from './service-fixtures.ts';
import type { Service } from './service-pods.ts';

const svc = serviceFixture;
const pod = podFixture;
const S = (o: KubeObject): [Resource, KubeObject] => [resources.services, o];
const P = (o: KubeObject): [Resource, KubeObject] => [resources.pods, o];
const ES = (o: KubeObject): [Resource, KubeObject] => [resources.endpointSlices, o];
const slice = (name: string, ownerUid: string, addrs: string[]): EndpointSlice => ({
  metadata: {
    name,
    namespace: 'default',
    labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': managedBy },
    ownerReferences: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'web',
        uid: ownerUid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
  addressType: 'IPv4',
  endpoints: addrs.map((a) => {
    const name = `p${a.split('.')[3]}`;
    return {
      addresses: [a],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'default', name, uid: `uid-${name}` },
      nodeName: 'n1',
    };
  }),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

async function drain(c: FakeCluster): Promise<void> {
  while (c.controller.queue.length > 0) {
    const k = await c.controller.queue.get();
    if (k) c.controller.queue.done(k);
  }
}

async function slicesOf(c: FakeCluster): Promise<EndpointSlice[]> {
  return (await c.client.list<EndpointSlice>(resources.endpointSlices, { namespace: 'default' })).items;
}
const addrs = (s: EndpointSlice) => (s.endpoints ?? []).map((e) => e.addresses[0]).sort();

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  check?: (slices: EndpointSlice[], c: FakeCluster) => void;
}

const cases: Case[] = [
  {
    name: 'a slice with ready, not-ready and terminating pods; pods without address or terminated are left out',
    objects: [
      S(svc({}, { team: 'a' })),
      P(pod('p1')),
      P(pod('p2', { ready: false })),
      P(pod('p3', { terminating: true })),
      P(pod('p4', { ip: null })),
      P(pod('p5', { phase: 'Succeeded' })),
      P(pod('p6', { labels: { app: 'other' } })),
    ],
    want: ['create endpointslices'],
    check: ([s], c) => {
      assert.ok(s);
      assert.match(s.metadata.name ?? '', /^web-/);
      assert.equal(s.addressType, 'IPv4');
      assert.deepEqual(s.metadata.labels, {
        team: 'a',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      });
      assert.deepEqual(s.metadata.ownerReferences, [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: 'web',
          uid: c.uid('svc-uid'),
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
      const byAddr = new Map((s.endpoints ?? []).map((e) => [e.addresses[0], e]));
      assert.deepEqual([...byAddr.keys()].sort(), ['10.42.0.1', '10.42.0.2', '10.42.0.3']);
      assert.deepEqual(byAddr.get('10.42.0.1')?.conditions, {
        ready: true,
        serving: true,
        terminating: false,
      });
      assert.deepEqual(byAddr.get('10.42.0.2')?.conditions, {
        ready: false,
        serving: false,
        terminating: false,
      });
      assert.deepEqual(byAddr.get('10.42.0.3')?.conditions, {
        ready: false,
        serving: true,
        terminating: true,
      });
      assert.equal(byAddr.get('10.42.0.1')?.nodeName, 'n1');
      assert.deepEqual(byAddr.get('10.42.0.1')?.targetRef, {
        kind: 'Pod',
        namespace: 'default',
        name: 'p1',
        uid: c.client.peek<Pod>(resources.pods, 'default/p1')?.metadata.uid,
      });
    },
  },
  {
    name: 'publishNotReadyAddresses makes every endpoint ready',
    objects: [
      S(svc({ publishNotReadyAddresses: true })),
      P(pod('p1', { ready: false })),
      P(pod('p2', { terminating: true })),
    ],
    want: ['create endpointslices'],
    check: ([s]) => assert.ok(s?.endpoints?.every((e) => e.conditions.ready)),
  },
  {
    name: 'a Service without a selector gets no slices',
    objects: [S(svc({ selector: undefined })), P(pod('p1'))],
    want: [],
  },
  {
    name: 'an ExternalName Service gets no slices',
    objects: [S(svc({ type: 'ExternalName', externalName: 'example.com' })), P(pod('p1'))],
    want: [],
  },
  {
    name: 'no matching pods: one empty placeholder slice',
    objects: [S(svc())],
    want: ['create endpointslices'],
    check: ([s]) => {
      assert.deepEqual(s?.endpoints, []);
      assert.deepEqual(s?.ports, []);
    },
  },
  {
    name: 'a named targetPort resolving differently gives a slice per resolution',
    objects: [
      S(svc({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] })),
      P(pod('p1', { ports: [{ name: 'web', containerPort: 8080 }] })),
      P(pod('p2', { ports: [{ name: 'web', containerPort: 9090 }] })),
      P(pod('p3', { ports: [{ name: 'web', containerPort: 9090 }] })),
    ],
    want: ['create endpointslices', 'create endpointslices'],
    check: (slices) => {
      const byPort = new Map(slices.map((s) => [s.ports?.[0]?.port, addrs(s)]));
      assert.deepEqual(byPort.get(8080), ['10.42.0.1']);
      assert.deepEqual(byPort.get(9090), ['10.42.0.2', '10.42.0.3']);
    },
  },
  {
    name: 'several ports and protocols',
    objects: [
      S(
        svc({
          ports: [
            { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, targetPort: 5353, protocol: 'TCP' },
          ],
        }),
      ),
      P(pod('p1')),
    ],
    want: ['create endpointslices'],
    check: ([s]) =>
      assert.deepEqual(s?.ports, [
        { name: 'dns', port: 5353, protocol: 'UDP' },
        { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
      ]),
  },
  {
    name: 'hostname for pods whose subdomain is the Service; headless label',
    objects: [
      S(svc({ clusterIP: 'None' })),
      P(pod('p1', { hostname: 'web-0', subdomain: 'web' })),
      P(pod('p2', { hostname: 'x', subdomain: 'other' })),
    ],
    want: ['create endpointslices'],
    check: ([s]) => {
      const h = new Map((s?.endpoints ?? []).map((e) => [e.addresses[0], e.hostname]));
      assert.equal(h.get('10.42.0.1'), 'web-0');
      assert.equal(h.get('10.42.0.2'), undefined);
      assert.equal(s?.metadata.labels?.['service.kubernetes.io/headless'], '');
    },
  },
  {
    // The seeded slice lacks targetRef and nodeName: the first sync fills them in.
    name: 'a slice is rewritten once to what it should be, then left alone',
    objects: [S(svc()), P(pod('p1')), ES(slice('web-abc', 'svc-uid', []))],
    want: ['update endpointslices web-abc'],
  },
  {
    name: 'a slice of another Service uid is deleted, the endpoints go to a new one',
    objects: [S(svc()), P(pod('p1')), ES(slice('web-old', 'old-uid', ['10.42.0.7']))],
    want: ['create endpointslices', 'delete endpointslices web-old'],
    check: (slices) => assert.deepEqual(slices.map(addrs), [['10.42.0.1']]),
  },
  {
    name: 'a gone endpoint is dropped from its slice, the other slices untouched',
    objects: [
      S(svc()),
      P(pod('p1')),
      P(pod('p2')),
      ES(slice('web-a', 'svc-uid', ['10.42.0.1', '10.42.0.9'])),
      ES(slice('web-b', 'svc-uid', ['10.42.0.2'])),
    ],
    want: ['update endpointslices web-a'],
  },
];

for (const tc of cases) {
  test(`endpointslice: ${tc.name}`, async () => {
    const c = await fakeCluster(newEndpointSliceController, tc.objects);
    try {
      await c.controller.reconcile('default/web');
      await c.client.settle();
      await c.controller.reconcile('default/web');
      await c.client.settle();
      // Two syncs: the second must find nothing to write.
      assert.deepEqual(writeLog(c.client).sort(), [...tc.want].sort());
      tc.check?.(await slicesOf(c), c);
    } finally {
      await c.stop();
    }
  });
}

test('endpointslice: at most 100 endpoints per slice; one pod change rewrites one slice', async () => {
  const pods = Array.from({ length: 250 }, (_, i) =>
    P(pod(`p${i}`, { ip: `10.42.${Math.floor(i / 200)}.${i % 200}` })),
  );
  const c = await fakeCluster(newEndpointSliceController, [S(svc()), ...pods]);
  try {
    await c.controller.reconcile('default/web');
    await c.client.settle();
    let slices = await slicesOf(c);
    assert.deepEqual(slices.map((s) => s.endpoints?.length).sort(), [100, 100, 50]);
    c.client.clearActions();
    const p = c.client.peek<Pod>(resources.pods, 'default/p7');
    assert.ok(p?.status?.conditions?.[0]);
    p.status.conditions[0].status = 'False';
    await drain(c);
    await c.client.updateStatus(resources.pods, p);
    c.client.clearActions();
    await c.until(() => c.controller.queue.length > 0, 'the pod change to enqueue the service');
    await c.controller.reconcile('default/web');
    assert.deepEqual(writeLog(c.client).length, 1);
    await c.client.settle();
    slices = await slicesOf(c);
    const ep = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses[0] === '10.42.0.7');
    assert.equal(ep?.conditions.ready, false);
  } finally {
    await c.stop();
  }
});

test('endpointslice: a sync before the cache shows its own create makes no second slice', async () => {
  const c = await fakeCluster(newEndpointSliceController, [S(svc()), P(pod('p1'))]);
  try {
    c.client.addReactor(() => undefined);
    await c.controller.reconcile('default/web');
    await c.controller.reconcile('default/web');
    await c.client.settle();
    await c.controller.reconcile('default/web');
    assert.deepEqual(writeLog(c.client), ['create endpointslices']);
  } finally {
    await c.stop();
  }
});

test('endpointslice: a deleted Service has its slices deleted; a Service losing its selector too', async () => {
  const c = await fakeCluster(newEndpointSliceController, [S(svc()), P(pod('p1'))]);
  try {
    await c.controller.reconcile('default/web');
    await c.client.settle();
    c.client.clearActions();
    const s = c.client.peek<Service>(resources.services, 'default/web');
    assert.ok(s?.spec);
    delete s.spec.selector;
    await c.client.update(resources.services, s);
    await c.client.settle();
    c.client.clearActions();
    await c.controller.reconcile('default/web');
    assert.deepEqual(
      writeLog(c.client).map((l) => l.replace(/ web-.*/, '')),
      ['delete endpointslices'],
    );
    await c.client.delete(resources.services, 'web', { namespace: 'default' });
    await c.client.settle();
    c.client.clearActions();
    await c.controller.reconcile('default/web');
    assert.deepEqual(writeLog(c.client), []);
  } finally {
    await c.stop();
  }
});

test('endpointslice: a pod gaining the selected labels enqueues the Service, an unrelated change does not', async () => {
  const c = await fakeCluster(
    (ctx) => new EndpointSliceController(ctx),
    [S(svc()), P(pod('p1', { labels: { app: 'other' } }))],
  );
  try {
    await drain(c);
    const p = c.client.peek<Pod>(resources.pods, 'default/p1');
    assert.ok(p);
    p.metadata.annotations = { x: 'y' };
    await c.client.update(resources.pods, p);
    await c.client.settle();
    assert.equal(c.controller.queue.length, 0);
    p.metadata.labels = { app: 'web' };
    delete p.metadata.resourceVersion;
    await c.client.update(resources.pods, p);
    await c.until(() => c.controller.queue.length === 1, 'the service key');
    assert.equal(await c.controller.queue.get(), 'default/web');
  } finally {
    await c.stop();
  }
});
