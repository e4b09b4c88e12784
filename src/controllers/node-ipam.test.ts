import assert from 'node:assert/strict';
import test from 'node:test';
import { type KubeObject, type Node, type Resource, resources } from '../client/index.ts';
import { fakeCluster, writeLog } from './fake-cluster.ts';
import { CidrSet, nodeIpamFactory } from './node-ipam.ts';

const node = (name: string, podCIDR?: string): Node => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
});

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  cluster?: string;
  want: Record<string, string>;
  writes: string[];
}

const cases: Case[] = [
  {
    name: 'nodes without a range get the first free ones, in turn',
    objects: [
      [resources.nodes, node('a')],
      [resources.nodes, node('b', '10.42.0.0/24')],
      [resources.nodes, node('c')],
    ],
    want: { a: '10.42.1.0/24', b: '10.42.0.0/24', c: '10.42.2.0/24' },
    writes: ['update nodes a', 'update nodes c'],
  },
  {
    name: 'ranges outside the cluster CIDR are not counted; other cluster CIDRs work',
    objects: [
      [resources.nodes, node('a', '100.64.0.0/24')],
      [resources.nodes, node('b')],
    ],
    cluster: '10.99.0.0/20',
    want: { a: '100.64.0.0/24', b: '10.99.0.0/24' },
    writes: ['update nodes b'],
  },
  {
    name: 'a node that has one is left alone',
    objects: [[resources.nodes, node('a', '10.42.7.0/24')]],
    want: { a: '10.42.7.0/24' },
    writes: [],
  },
];

for (const tc of cases) {
  test(`nodeipam: ${tc.name}`, async () => {
    const c = await fakeCluster(nodeIpamFactory({ clusterCIDR: tc.cluster }), tc.objects);
    try {
      for (const n of Object.keys(tc.want).sort()) await c.controller.reconcile(n);
      assert.deepEqual(writeLog(c.client), tc.writes);
      for (const [n, cidr] of Object.entries(tc.want)) {
        const got = c.client.peek(resources.nodes, n) as Node;
        assert.equal(got.spec?.podCIDR, cidr, n);
      }
    } finally {
      await c.stop();
    }
  });
}

test('nodeipam: a full cluster CIDR is an error and an event, not a duplicate', async () => {
  const c = await fakeCluster(nodeIpamFactory({ clusterCIDR: '10.42.0.0/23' }), [
    [resources.nodes, node('a', '10.42.0.0/24')],
    [resources.nodes, node('b', '10.42.1.0/24')],
    [resources.nodes, node('c')],
  ]);
  try {
    await assert.rejects(c.controller.reconcile('c'), /is full/);
  } finally {
    await c.stop();
  }
});

test('CidrSet: index and range round-trip', () => {
  const s = new CidrSet('10.42.0.0/16', 24);
  assert.equal(s.size, 256);
  assert.equal(s.cidr(255), '10.42.255.0/24');
  assert.equal(s.indexOf('10.42.3.0/24'), 3);
  assert.equal(s.indexOf('10.43.0.0/24'), undefined);
  assert.throws(() => new CidrSet('10.42.0.0/16', 8));
});
