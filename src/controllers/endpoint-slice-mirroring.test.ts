import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Resource, resources } from '../client/index.ts';
import { newEndpointSliceMirroringController } from './endpoint-slice-mirroring.ts';
import type { EndpointSlice } from './endpoint-slice-plan.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';

const svc = (selector?: Record<string, string>): KubeObject => ({
  metadata: { name: 'db', namespace: 'default' },
  spec: { ports: [{ name: 'pg', port: 5432 }], ...(selector ? { selector } : {}) },
});
const eps = (labels: Record<string, string> = {}, ips = ['192.0.2.7']): KubeObject => ({
  metadata: { name: 'db', namespace: 'default', uid: 'ep-uid', labels },
  subsets: [
    {
      addresses: ips.map((ip) => ({ ip })),
      notReadyAddresses: [{ ip: '192.0.2.8' }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    },
  ],
});
const S = (o: KubeObject): [Resource, KubeObject] => [resources.services, o];
const E = (o: KubeObject): [Resource, KubeObject] => [resources.endpoints, o];

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  check?: (slices: EndpointSlice[], uid: (u: string) => string) => void;
}

const cases: Case[] = [
  {
    name: 'hand-written Endpoints of a selector-less Service are mirrored',
    objects: [S(svc()), E(eps({ team: 'a' }))],
    want: ['create endpointslices'],
    check: ([s], uid) => {
      assert.equal(
        s?.metadata.labels?.['endpointslice.kubernetes.io/managed-by'],
        'endpointslicemirroring-controller.k8s.io',
      );
      assert.equal(s?.metadata.labels?.['kubernetes.io/service-name'], 'db');
      assert.equal(s?.metadata.labels?.team, 'a');
      assert.deepEqual(
        s?.metadata.ownerReferences?.map((r) => [r.kind, r.uid]),
        [['Endpoints', uid('ep-uid')]],
      );
      assert.deepEqual(s?.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
      assert.deepEqual(
        s?.endpoints?.map((e) => [e.addresses[0], e.conditions.ready]),
        [
          ['192.0.2.7', true],
          ['192.0.2.8', false],
        ],
      );
    },
  },
  {
    name: 'a Service with a selector is the endpointslice controller’s',
    objects: [S(svc({ app: 'db' })), E(eps())],
    want: [],
  },
  {
    name: 'skip-mirror Endpoints (the kubernetes Service) are not mirrored',
    objects: [S(svc()), E(eps({ 'endpointslice.kubernetes.io/skip-mirror': 'true' }))],
    want: [],
  },
  { name: 'Endpoints without a Service are not mirrored', objects: [E(eps())], want: [] },
];

for (const tc of cases)
  test(`endpointslicemirroring: ${tc.name}`, async () => {
    const c = await fakeCluster(newEndpointSliceMirroringController, tc.objects);
    try {
      await c.controller.reconcile('default/db');
      await c.client.settle();
      await c.controller.reconcile('default/db');
      assert.deepEqual(writeLog(c.client), tc.want);
      const slices = (await c.client.list<EndpointSlice>(resources.endpointSlices, { namespace: 'default' }))
        .items;
      tc.check?.(slices, c.uid);
    } finally {
      await c.stop();
    }
  });

test('endpointslicemirroring: an edit of the Endpoints updates the slice; deleting them deletes it', async () => {
  const c = await fakeCluster(newEndpointSliceMirroringController, [S(svc()), E(eps())]);
  try {
    await c.controller.reconcile('default/db');
    await c.client.settle();
    const e = c.client.peek<KubeObject>(resources.endpoints, 'default/db');
    assert.ok(e);
    (e.subsets as { addresses: { ip: string }[] }[])[0]?.addresses.push({ ip: '192.0.2.9' });
    await c.client.update(resources.endpoints, e);
    await c.client.settle();
    c.client.clearActions();
    await c.controller.reconcile('default/db');
    assert.deepEqual(
      writeLog(c.client).map((l) => l.replace(/ db-.*/, '')),
      ['update endpointslices'],
    );
    await c.client.delete(resources.endpoints, 'db', { namespace: 'default' });
    await c.client.settle();
    c.client.clearActions();
    await c.controller.reconcile('default/db');
    assert.deepEqual(
      writeLog(c.client).map((l) => l.replace(/ db-.*/, '')),
      ['delete endpointslices'],
    );
  } finally {
    await c.stop();
  }
});
