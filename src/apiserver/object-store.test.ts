import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from '../api/kinds/index.ts';
import type { ResourceType } from '../api/resource.ts';
import type { KubeObject } from '../api/types.ts';
import { MemoryStore } from '../storage/memory.ts';
import { listObjects, watchObjects } from './list-watch.ts';
import { ObjectStore } from './object-store.ts';
import { ApiError } from './status.ts';

const type = (plural: string): ResourceType => {
  const t = builtinTypes().find((x) => x.plural === plural && x.version !== 'v1beta1');
  if (!t) throw new Error(plural);
  return t;
};
const deployments = type('deployments');
const configmaps = type('configmaps');
const pods = type('pods');

const deployment = (name: string): KubeObject => ({
  metadata: { name, namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    },
  },
});

test('create sets server fields and defaults; resourceVersion is the store revision', async () => {
  const objects = new ObjectStore(new MemoryStore());
  const d = await objects.create(deployments, deployment('web'));
  assert.equal(d.metadata.generation, 1);
  assert.match(d.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(d.metadata.resourceVersion, String(await objects.store.currentRevision()));
  assert.equal(d.spec?.replicas, 1);
  assert.deepEqual(d.status, {});
});

test('generateName, and 422 Invalid with causes', async () => {
  const objects = new ObjectStore(new MemoryStore());
  const cm = await objects.create(configmaps, { metadata: { generateName: 'x-', namespace: 'default' } });
  assert.match(cm.metadata.name ?? '', /^x-[a-z0-9]{5}$/);
  await assert.rejects(
    objects.create(configmaps, { metadata: { name: 'Bad', namespace: 'default' } }),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 422);
      assert.equal(err.details?.causes?.[0]?.field, 'metadata.name');
      return true;
    },
  );
});

test('generation bumps on spec changes only; status writes go through the subresource', async () => {
  const objects = new ObjectStore(new MemoryStore());
  await objects.create(deployments, deployment('web'));
  const relabel = await objects.update(deployments, 'default', 'web', (d) => {
    if (!d) throw new Error('missing');
    d.metadata.labels = { a: 'b' };
    d.status = { replicas: 9 };
    return d;
  });
  assert.equal(relabel.obj.metadata.generation, 1);
  assert.deepEqual(relabel.obj.status, {}, 'main resource writes ignore status');
  const scaled = await objects.update(deployments, 'default', 'web', (d) => ({
    ...(d as KubeObject),
    spec: { ...d?.spec, replicas: 3 },
  }));
  assert.equal(scaled.obj.metadata.generation, 2);
  const status = await objects.update(
    deployments,
    'default',
    'web',
    (d) => ({ ...(d as KubeObject), status: { observedGeneration: 2 } }),
    {
      subresource: 'status',
    },
  );
  assert.deepEqual(status.obj.status, { observedGeneration: 2 });
  assert.equal(status.obj.metadata.generation, 2);
});

test('stale resourceVersion on update is a conflict', async () => {
  const objects = new ObjectStore(new MemoryStore());
  const cm = await objects.create(configmaps, { metadata: { name: 'c', namespace: 'default' } });
  await objects.update(configmaps, 'default', 'c', (c) => ({ ...(c as KubeObject), data: { a: '1' } }));
  await assert.rejects(
    objects.update(configmaps, 'default', 'c', () => ({ ...cm, data: { a: '2' } })),
    (err: Error) => err.name === 'ConflictError',
  );
});

test('finalizers keep the object until removed; pods on a node delete gracefully', async () => {
  const objects = new ObjectStore(new MemoryStore());
  await objects.create(configmaps, { metadata: { name: 'f', namespace: 'default', finalizers: ['x/y'] } });
  const marked = await objects.delete(configmaps, 'default', 'f');
  assert.equal(marked.deleted, false);
  assert.ok(marked.obj.metadata.deletionTimestamp);
  await objects.update(configmaps, 'default', 'f', (c) => ({
    ...(c as KubeObject),
    metadata: { ...c?.metadata, finalizers: [] },
  }));
  assert.equal(await objects.tryGet(configmaps, 'default', 'f'), undefined);

  await objects.create(pods, {
    metadata: { name: 'p', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
  });
  const graceful = await objects.delete(pods, 'default', 'p');
  assert.equal(graceful.deleted, false);
  assert.equal(graceful.obj.metadata.deletionGracePeriodSeconds, 30);
  const now = await objects.delete(pods, 'default', 'p', { gracePeriodSeconds: 0 });
  assert.equal(now.deleted, true);
});

test('list pages with limit/continue; watch from a revision; compaction gives 410', async () => {
  const objects = new ObjectStore(new MemoryStore());
  for (let i = 0; i < 5; i++)
    await objects.create(configmaps, {
      metadata: { name: `c${i}`, namespace: 'default', labels: { odd: String(i % 2) } },
    });
  const first = await listObjects(objects, configmaps, { namespace: 'default', limit: 2 });
  assert.deepEqual(
    first.items.map((c) => c.metadata.name),
    ['c0', 'c1'],
  );
  const second = await listObjects(objects, configmaps, {
    namespace: 'default',
    limit: 2,
    continue: first.continue,
  });
  assert.deepEqual(
    second.items.map((c) => c.metadata.name),
    ['c2', 'c3'],
  );
  const odd = await listObjects(objects, configmaps, { namespace: 'default', labelSelector: 'odd=1' });
  assert.deepEqual(
    odd.items.map((c) => c.metadata.name),
    ['c1', 'c3'],
  );

  const abort = new AbortController();
  const events = watchObjects(
    objects,
    configmaps,
    { namespace: 'default', resourceVersion: first.resourceVersion },
    abort.signal,
  );
  await objects.update(configmaps, 'default', 'c0', (c) => ({ ...(c as KubeObject), data: { a: 'b' } }));
  const ev = await events.next();
  assert.equal(ev.value?.type, 'MODIFIED');
  abort.abort();

  await objects.store.compact(await objects.store.currentRevision());
  const stale = watchObjects(
    objects,
    configmaps,
    { namespace: 'default', resourceVersion: '1' },
    new AbortController().signal,
  );
  const err = await stale.next();
  assert.ok(err.value);
  assert.equal(err.value.type, 'ERROR');
  assert.equal((err.value.object as { code: number }).code, 410);
});

test('with a garbage collector, Foreground and Orphan deletes add its finalizer', async () => {
  const objects = new ObjectStore(new MemoryStore(), [], { gcFinalizers: true });
  await objects.create(deployments, deployment('fg'));
  const fg = await objects.delete(deployments, 'default', 'fg', { propagationPolicy: 'Foreground' });
  assert.equal(fg.deleted, false);
  assert.deepEqual(fg.obj.metadata.finalizers, ['foregroundDeletion']);
  await objects.create(deployments, deployment('bg'));
  assert.equal(
    (await objects.delete(deployments, 'default', 'bg', { propagationPolicy: 'Background' })).deleted,
    true,
  );
  const without = new ObjectStore(new MemoryStore());
  await without.create(deployments, deployment('o'));
  assert.equal(
    (await without.delete(deployments, 'default', 'o', { propagationPolicy: 'Orphan' })).deleted,
    true,
  );
});
