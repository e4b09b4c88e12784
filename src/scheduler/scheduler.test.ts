import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Event, FakeClient, FakeClock, InformerFactory, type Pod, resources } from '../client/index.ts';
import { silentLogger } from '../lib/logger.ts';
import { node, pod } from './fixtures.ts';
import { nodeResourcesFit } from './plugins/node-resources-fit.ts';
import { Scheduler } from './scheduler.ts';
import { type Plugin, unschedulable } from './types.ts';

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function setup(
  objs: { nodes: ReturnType<typeof node>[]; pods: Pod[] },
  schedulerName?: string,
  plugins?: Plugin[],
) {
  const client = new FakeClient();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  client.seed(resources.nodes, ...objs.nodes);
  client.seed(resources.pods, ...objs.pods);
  const informers = new InformerFactory(client, { clock });
  const s = new Scheduler({
    client,
    informers,
    log: silentLogger(),
    clock,
    schedulerName,
    plugins,
    random: () => 0.5,
  });
  const abort = new AbortController();
  const done = s.run(abort.signal);
  informers.start(abort.signal);
  const nodeOf = (name: string) => client.peek<Pod>(resources.pods, `default/${name}`)?.spec?.nodeName;
  const events = () =>
    [...client.actions]
      .filter((a) => a.resource === 'events' && a.verb === 'create')
      .map((a) => a.object as Event);
  return {
    client,
    clock,
    s,
    nodeOf,
    events,
    async stop() {
      abort.abort();
      await done;
      await informers.stop();
    },
  };
}

test('binds pending pods through pods/binding and spreads replicas', async () => {
  const t = setup({
    nodes: [node('n1'), node('n2'), node('n3')],
    pods: [1, 2, 3, 4, 5, 6].map((i) => pod(`web-${i}`, { cpu: '100m', owner: 'rs1' })),
  });
  try {
    await until(() => [1, 2, 3, 4, 5, 6].every((i) => t.nodeOf(`web-${i}`)), 'all bound');
    const per = new Map<string, number>();
    for (let i = 1; i <= 6; i++) per.set(t.nodeOf(`web-${i}`)!, (per.get(t.nodeOf(`web-${i}`)!) ?? 0) + 1);
    assert.deepEqual([...per.values()], [2, 2, 2], 'two replicas per node');
    const binds = t.client.actions.filter((a) => a.subresource === 'binding');
    assert.equal(binds.length, 6);
  } finally {
    await t.stop();
  }
});

test('an impossible pod gets FailedScheduling and PodScheduled=False; others are left to their scheduler', async () => {
  const t = setup({
    nodes: [
      node('n1', { cpu: '1' }),
      node('n2', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
      node('n3', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    ],
    pods: [pod('big', { cpu: '2' }), pod('other', { spec: { schedulerName: 'custom', containers: [] } })],
  });
  try {
    await until(() => t.events().some((e) => e.reason === 'FailedScheduling'), 'event');
    const ev = t.events().find((e) => e.reason === 'FailedScheduling')!;
    assert.equal(ev.type, 'Warning');
    assert.equal(
      ev.message,
      '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. ' +
        'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    await until(
      () =>
        !!t.client
          .peek<Pod>(resources.pods, 'default/big')
          ?.status?.conditions?.some((c) => c.type === 'PodScheduled'),
      'condition',
    );
    const cond = t.client
      .peek<Pod>(resources.pods, 'default/big')!
      .status!.conditions!.find((c) => c.type === 'PodScheduled')!;
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(t.s.queue.length.unschedulable, 1);
    assert.equal(t.nodeOf('other'), undefined, 'pods of another scheduler are not bound');
    // A new node big enough re-activates the pod.
    await t.client.create(resources.nodes, node('n4', { cpu: '8' }));
    await until(() => t.s.queue.length.backoff === 1, 'moved to backoff (1 s after its attempt)');
    await t.clock.advance(1000);
    await until(() => t.nodeOf('big') === 'n4', 'bound after node add');
  } finally {
    await t.stop();
  }
});

test('a failed binding forgets the assumption and retries after back-off', async () => {
  const t = setup({ nodes: [node('n1')], pods: [] });
  let fail = 1;
  t.client.addReactor((a) => {
    if (a.subresource === 'binding' && fail-- > 0) throw new Error('injected');
    return undefined;
  });
  try {
    await t.client.create(resources.pods, pod('p'));
    await until(() => t.s.queue.length.backoff === 1, 'in backoff');
    assert.equal(t.s.cache.isPlaced('default/p'), false, 'assumption forgotten');
    await t.clock.advance(1000);
    await until(() => t.nodeOf('p') === 'n1', 'bound on retry');
  } finally {
    await t.stop();
  }
});

test('preemption removes the lower-priority pod and nominates the node', async () => {
  const t = setup({
    nodes: [node('n1', { cpu: '1' })],
    pods: [
      pod('low', { cpu: '800m', nodeName: 'n1', priority: 1 }),
      pod('high', { cpu: '800m', priority: 100 }),
    ],
  });
  try {
    await until(() => !t.client.peek(resources.pods, 'default/low'), 'victim deleted');
    await until(() => t.s.queue.length.backoff === 1, 'preemptor backing off');
    const high = t.client.peek<Pod>(resources.pods, 'default/high');
    assert.equal((high?.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName, 'n1');
    // A lower-priority pod arriving now must not take the room made for the preemptor.
    await t.client.create(resources.pods, pod('sneaky', { cpu: '800m', priority: 0 }));
    await until(() => t.events().some((e) => e.involvedObject.name === 'sneaky'), 'sneaky rejected');
    assert.equal(t.nodeOf('sneaky'), undefined);
    await t.clock.advance(1000);
    await until(() => t.nodeOf('high') === 'n1', 'high bound after preemption');
    assert.equal(t.nodeOf('sneaky'), undefined);
    assert.ok(t.events().some((e) => e.reason === 'Preempted' && e.involvedObject.name === 'low'));
  } finally {
    await t.stop();
  }
});

test('Reserve, Unreserve and Bind extension points', async () => {
  const calls: string[] = [];
  let reserveFails = 1;
  const recorder: Plugin = {
    name: 'Recorder',
    reserve(_s, p, n) {
      calls.push(`reserve ${p.metadata.name} ${n}`);
      return reserveFails-- > 0 ? unschedulable('not yet') : undefined;
    },
    unreserve(_s, p) {
      calls.push(`unreserve ${p.metadata.name}`);
    },
    async bind(_s, p, n) {
      calls.push(`bind ${p.metadata.name} ${n}`);
      return false; // leave it to the default binder
    },
  };
  const t = setup({ nodes: [node('n1')], pods: [pod('p')] }, undefined, [nodeResourcesFit, recorder]);
  try {
    await until(() => t.s.queue.length.backoff === 1, 'backoff after a failed reserve');
    assert.equal(t.s.cache.isPlaced('default/p'), false);
    await t.clock.advance(1000);
    await until(() => t.nodeOf('p') === 'n1', 'bound by the default binder');
    assert.deepEqual(calls, ['reserve p n1', 'unreserve p', 'reserve p n1', 'bind p n1']);
  } finally {
    await t.stop();
  }
});
