import assert from 'node:assert/strict';
import test from 'node:test';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { clientConformance } from './conformance.ts';
import { GoneError } from './errors.ts';
import { FakeClient } from './fake-client.ts';
import type { Pod } from './objects.ts';
import { resources } from './resources.ts';
import { clientset } from './typed.ts';
import type { KubeObject, WatchEvent } from './types.ts';

const pod = (name: string, extra: Partial<Pod> = {}): Pod => ({
  metadata: { name, namespace: 'default', labels: { app: name.split('-')[0] ?? name } },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
  ...extra,
});

async function collect(it: AsyncIterable<WatchEvent>, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const ev of it) {
    out.push(`${ev.type} ${ev.object.metadata.name}`);
    if (out.length === n) break;
  }
  return out;
}

const errorCases: {
  name: string;
  run: (f: FakeClient) => Promise<unknown>;
  want: new (...a: never[]) => Error;
}[] = [
  {
    name: 'get of a missing object',
    run: (f) => f.get(resources.pods, 'nope', { namespace: 'default' }),
    want: NotFoundError,
  },
  {
    name: 'create of a taken name',
    run: (f) => f.create(resources.pods, pod('web-1')),
    want: AlreadyExistsError,
  },
  {
    name: 'update with a stale resourceVersion',
    run: async (f) => {
      const p = await f.get<Pod>(resources.pods, 'web-1', { namespace: 'default' });
      await f.update(resources.pods, { ...p, metadata: { ...p.metadata, labels: { x: '1' } } });
      return f.update(resources.pods, p);
    },
    want: ConflictError,
  },
  {
    name: 'delete with a wrong uid precondition',
    run: (f) => f.delete(resources.pods, 'web-1', { namespace: 'default', preconditions: { uid: 'other' } }),
    want: ConflictError,
  },
  {
    name: 'namespaced create without a namespace',
    run: (f) => f.create(resources.pods, { metadata: { name: 'x' } }),
    want: InvalidError,
  },
  {
    name: 'binding an already bound pod',
    run: async (f) => {
      const cs = clientset(f);
      await cs.pods.bind('default', 'web-1', 'n1');
      return cs.pods.bind('default', 'web-1', 'n2');
    },
    want: ConflictError,
  },
  {
    name: 'a reactor failing creates',
    run: (f) => f.create(resources.configMaps, { metadata: { name: 'c', namespace: 'default' } }),
    want: InvalidError,
  },
];
for (const tc of errorCases) {
  test(`fake client errors: ${tc.name}`, async () => {
    const f = new FakeClient();
    f.seed(resources.pods, pod('web-1'));
    f.addReactor((a) => {
      if (a.verb === 'create' && a.resource === 'configmaps') throw new InvalidError('injected');
    });
    await assert.rejects(tc.run(f), tc.want);
  });
}

test('create fills metadata; update bumps generation only for spec changes; status is separate', async () => {
  const f = new FakeClient();
  const created = await f.create(resources.pods, pod('web-1'));
  assert.ok(created.metadata.uid);
  assert.equal(created.metadata.generation, 1);
  assert.equal(created.kind, 'Pod');
  const relabeled = await f.update(resources.pods, {
    ...created,
    metadata: { ...created.metadata, labels: { a: 'b' } },
  });
  assert.equal(relabeled.metadata.generation, 1);
  assert.ok(Number(relabeled.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
  const withStatus = await f.updateStatus(resources.pods, { ...relabeled, status: { phase: 'Running' } });
  assert.equal((withStatus.status as { phase?: string }).phase, 'Running');
  const respec = await f.update(resources.pods, { ...withStatus, spec: { containers: [] }, status: {} });
  assert.equal(respec.metadata.generation, 2);
  assert.equal((respec.status as { phase?: string }).phase, 'Running', 'update does not write status');
  assert.deepEqual(
    f.writes().map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`),
    ['create pods', 'update pods', 'update pods/status', 'update pods'],
  );
});

test('list filters by namespace, labels and fields', async () => {
  const f = new FakeClient();
  f.seed(
    resources.pods,
    pod('web-1'),
    pod('web-2', { spec: { nodeName: 'n1', containers: [] } }),
    pod('db-1'),
  );
  f.seed(resources.pods, {
    ...pod('web-3'),
    metadata: { name: 'web-3', namespace: 'other', labels: { app: 'web' } },
  });
  const names = async (o: { namespace?: string; labelSelector?: string; fieldSelector?: string }) =>
    (await f.list(resources.pods, o)).items.map((p) => p.metadata.name);
  assert.deepEqual(
    await names({}),
    ['default/db-1', 'default/web-1', 'default/web-2', 'other/web-3'].map((k) => k.split('/')[1]),
  );
  assert.deepEqual(await names({ namespace: 'default', labelSelector: 'app=web' }), ['web-1', 'web-2']);
  assert.deepEqual(await names({ fieldSelector: 'spec.nodeName=n1' }), ['web-2']);
  assert.deepEqual(await names({ fieldSelector: 'spec.nodeName=,metadata.namespace!=other' }), [
    'db-1',
    'web-1',
  ]);
});

test('patches: merge, json, and subresources scale and binding', async () => {
  const f = new FakeClient();
  const cs = clientset(f);
  f.seed(resources.pods, pod('web-1'));
  f.seed(resources.deployments, { metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 2 } });
  const merged = await cs.pods.patch(
    'web-1',
    'merge',
    { metadata: { labels: { app: null, tier: 'x' } } },
    { namespace: 'default' },
  );
  assert.deepEqual(merged.metadata.labels, { tier: 'x' });
  const patched = await cs.pods.patch(
    'web-1',
    'json',
    [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }],
    {
      namespace: 'default',
    },
  );
  assert.deepEqual(patched.metadata.annotations, { a: 'b' });
  const scale = await cs.deployments.getScale('d', { namespace: 'default' });
  assert.equal(scale.spec?.replicas, 2);
  await cs.deployments.updateScale({ ...scale, spec: { replicas: 5 } });
  assert.equal((await cs.deployments.get('d', { namespace: 'default' })).spec?.replicas, 5);
  await cs.pods.bind('default', 'web-1', 'n1');
  assert.equal((await cs.pods.get('web-1', { namespace: 'default' })).spec?.nodeName, 'n1');
});

test('seed keeps identity and terminating state; create does not', async () => {
  const f = new FakeClient();
  const ts = '2026-01-01T00:00:00Z';
  f.seed(
    resources.pods,
    pod('old', { metadata: { name: 'old', namespace: 'default', uid: 'u-1', deletionTimestamp: ts } }),
  );
  const seeded = await f.get(resources.pods, 'old', { namespace: 'default' });
  assert.equal(seeded.metadata.uid, 'u-1');
  assert.equal(seeded.metadata.deletionTimestamp, ts);
  const updated = await f.updateStatus(resources.pods, { ...seeded, status: { phase: 'Running' } });
  assert.equal(
    updated.metadata.deletionTimestamp,
    ts,
    'a terminating pod without finalizers stays until deleted',
  );
  const created = await f.create(
    resources.pods,
    pod('new', { metadata: { name: 'new', namespace: 'default', uid: 'mine' } }),
  );
  assert.notEqual(created.metadata.uid, 'mine');
});

test('finalizers hold deletion until removed', async () => {
  const f = new FakeClient();
  f.seed(resources.configMaps, { metadata: { name: 'c', namespace: 'default', finalizers: ['x/y'] } });
  const pending = await f.delete(resources.configMaps, 'c', { namespace: 'default' });
  assert.ok(pending?.metadata.deletionTimestamp);
  const cur = await f.get(resources.configMaps, 'c', { namespace: 'default' });
  await f.update(resources.configMaps, { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
  await assert.rejects(f.get(resources.configMaps, 'c', { namespace: 'default' }), NotFoundError);
});

test('watch replays from a resourceVersion, translates selector transitions, and is Gone after compaction', async () => {
  const f = new FakeClient();
  const { metadata } = await f.list(resources.pods);
  f.seed(resources.pods, pod('web-1'), pod('web-2'));
  await f.patch(resources.pods, 'web-1', 'merge', { spec: { nodeName: 'n1' } }, { namespace: 'default' });
  await f.patch(resources.pods, 'web-1', 'merge', { spec: { nodeName: 'n2' } }, { namespace: 'default' });
  await f.delete(resources.pods, 'web-2', { namespace: 'default' });
  const all = await collect(f.watch(resources.pods, { resourceVersion: metadata.resourceVersion }), 5);
  assert.deepEqual(all, ['ADDED web-1', 'ADDED web-2', 'MODIFIED web-1', 'MODIFIED web-1', 'DELETED web-2']);
  const onN1 = await collect(
    f.watch(resources.pods, { resourceVersion: metadata.resourceVersion, fieldSelector: 'spec.nodeName=n1' }),
    2,
  );
  assert.deepEqual(onN1, ['ADDED web-1', 'DELETED web-1']);
  f.compact();
  await assert.rejects(
    collect(f.watch(resources.pods, { resourceVersion: metadata.resourceVersion }), 1),
    GoneError,
  );
});

test('live watch ends cleanly on abort and on closeWatches', async () => {
  const f = new FakeClient();
  const ac = new AbortController();
  const events: WatchEvent<KubeObject>[] = [];
  const done = (async () => {
    for await (const ev of f.watch(resources.pods, { signal: ac.signal })) events.push(ev);
  })();
  f.seed(resources.pods, pod('web-1'));
  const deadline = Date.now() + 1000;
  while (events.length < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  ac.abort();
  await done;
  assert.equal(events.length, 1);
  assert.equal(f.openWatches, 0);
  const second = collect(f.watch(resources.pods), 10);
  f.closeWatches();
  assert.deepEqual(await second, []);
});

clientConformance('fake client', {
  setup: async () => ({ client: new FakeClient(), namespace: 'conformance' }),
});
