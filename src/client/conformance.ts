import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../lib/errors.ts';
import type { Client } from './client.ts';
import type { Pod } from './objects.ts';
import { resources } from './resources.ts';
import { clientset } from './typed.ts';
import type { KubeObject, WatchEvent } from './types.ts';

export interface ConformanceTarget {
  /** A client, and a namespace that exists and is empty. */
  setup(): Promise<{ client: Client; namespace: string }>;
}

/**
 * The behaviour every Client implementation must share, run against FakeClient
 * (src/client/fake-client.test.ts) and against `drover server`
 * (test/client-apiserver.test.ts), so controller tests on the fake mean
 * something on the real thing.
 */
export function clientConformance(name: string, target: ConformanceTarget): void {
  const pod = (podName: string, ns: string, labels: Record<string, string> = {}): Pod => ({
    metadata: { name: podName, namespace: ns, labels },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });

  test(`${name}: create, get, update with optimistic concurrency, delete`, async () => {
    const { client, namespace } = await target.setup();
    const cs = clientset(client);
    const created = await cs.pods.create(pod('a', namespace));
    assert.ok(created.metadata.uid && created.metadata.resourceVersion && created.metadata.creationTimestamp);
    assert.equal(created.metadata.generation, 1);
    await assert.rejects(cs.pods.create(pod('a', namespace)), AlreadyExistsError);
    const got = await cs.pods.get('a', { namespace });
    assert.equal(got.metadata.uid, created.metadata.uid);
    const relabeled = await cs.pods.update({ ...got, metadata: { ...got.metadata, labels: { x: '1' } } });
    assert.equal(relabeled.metadata.generation, 1, 'metadata changes keep the generation');
    await assert.rejects(cs.pods.update(got), ConflictError);
    await cs.pods.delete('a', { namespace, gracePeriodSeconds: 0 });
    await assert.rejects(cs.pods.get('a', { namespace }), NotFoundError);
  });

  test(`${name}: status is written only through the status subresource`, async () => {
    const { client, namespace } = await target.setup();
    const cs = clientset(client);
    const p = await cs.pods.create(pod('s', namespace));
    const withStatus = await cs.pods.updateStatus({ ...p, status: { phase: 'Running', podIP: '10.42.0.9' } });
    assert.equal(withStatus.status?.phase, 'Running');
    const updated = await cs.pods.update({ ...withStatus, status: { phase: 'Failed' } });
    assert.equal(updated.status?.phase, 'Running', 'update ignores status');
    const patched = await cs.pods.patch(
      's',
      'merge',
      { status: { podIP: '10.42.0.10' } },
      { namespace, subresource: 'status' },
    );
    assert.equal(patched.status?.podIP, '10.42.0.10');
    assert.equal(patched.status?.phase, 'Running');
  });

  test(`${name}: merge and json patches, binding, scale`, async () => {
    const { client, namespace } = await target.setup();
    const cs = clientset(client);
    await cs.pods.create(pod('p', namespace, { app: 'p', drop: 'me' }));
    const merged = await cs.pods.patch(
      'p',
      'merge',
      { metadata: { labels: { drop: null, add: 'x' } } },
      { namespace },
    );
    assert.deepEqual(merged.metadata.labels, { app: 'p', add: 'x' });
    const jp = await cs.pods.patch(
      'p',
      'json',
      [{ op: 'replace', path: '/metadata/labels/add', value: 'y' }],
      {
        namespace,
      },
    );
    assert.equal(jp.metadata.labels?.add, 'y');
    await cs.pods.bind(namespace, 'p', 'some-node');
    assert.equal((await cs.pods.get('p', { namespace })).spec?.nodeName, 'some-node');
    await cs.replicaSets.create({
      metadata: { name: 'rs', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'rs' } },
        template: {
          metadata: { labels: { app: 'rs' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
    const scale = await cs.replicaSets.getScale('rs', { namespace });
    assert.equal(scale.spec?.replicas, 2);
    await cs.replicaSets.updateScale({ ...scale, spec: { replicas: 3 } });
    const rs = await cs.replicaSets.get('rs', { namespace });
    assert.equal(rs.spec?.replicas, 3);
    assert.equal(rs.metadata.generation, 2, 'a spec change bumps the generation');
  });

  test(`${name}: list with label and field selectors`, async () => {
    const { client, namespace } = await target.setup();
    const cs = clientset(client);
    await cs.pods.create(pod('l1', namespace, { tier: 'web' }));
    await cs.pods.create(pod('l2', namespace, { tier: 'db' }));
    await cs.pods.create(pod('l3', namespace, { tier: 'web' }));
    await cs.pods.bind(namespace, 'l3', 'n1');
    const names = async (o: { labelSelector?: string; fieldSelector?: string }) =>
      (await cs.pods.list({ namespace, ...o })).items.map((p) => p.metadata.name).sort();
    assert.deepEqual(await names({}), ['l1', 'l2', 'l3']);
    assert.deepEqual(await names({ labelSelector: 'tier=web' }), ['l1', 'l3']);
    assert.deepEqual(await names({ labelSelector: 'tier notin (web)' }), ['l2']);
    assert.deepEqual(await names({ fieldSelector: 'spec.nodeName=n1' }), ['l3']);
    assert.deepEqual(await names({ fieldSelector: 'spec.nodeName=', labelSelector: 'tier=web' }), ['l1']);
  });

  test(`${name}: list pages with limit and continue`, async () => {
    const { client, namespace } = await target.setup();
    const cs = clientset(client);
    for (const n of ['c', 'a', 'e', 'b', 'd'])
      await cs.configMaps.create({ metadata: { name: n, namespace } });
    const names: string[] = [];
    const pages: number[] = [];
    let cont: string | undefined;
    do {
      const page = await cs.configMaps.list({ namespace, limit: 2, continue: cont });
      names.push(...page.items.map((o) => o.metadata.name ?? ''));
      pages.push(page.items.length);
      cont = page.metadata.continue || undefined;
    } while (cont);
    assert.deepEqual(names, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(pages, [2, 2, 1]);
  });

  test(`${name}: watch from a resourceVersion, with selector transitions`, async () => {
    const { client, namespace } = await target.setup();
    const cs = clientset(client);
    const rv = (await cs.configMaps.list({ namespace })).metadata.resourceVersion;
    await cs.configMaps.create({ metadata: { name: 'w', namespace, labels: { on: 'no' } } });
    await cs.configMaps.patch('w', 'merge', { metadata: { labels: { on: 'yes' } } }, { namespace });
    await cs.configMaps.patch('w', 'merge', { data: { a: 'b' } }, { namespace });
    await cs.configMaps.patch('w', 'merge', { metadata: { labels: { on: 'no' } } }, { namespace });
    await cs.configMaps.delete('w', { namespace });
    const collect = async (labelSelector: string | undefined, n: number) => {
      const out: string[] = [];
      const signal = AbortSignal.timeout(5000);
      for await (const ev of cs.configMaps.watch({ namespace, resourceVersion: rv, labelSelector, signal })) {
        out.push(ev.type);
        if (out.length === n) break;
      }
      return out;
    };
    assert.deepEqual(await collect(undefined, 5), ['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED']);
    assert.deepEqual(await collect('on=yes', 3), ['ADDED', 'MODIFIED', 'DELETED']);
  });

  test(`${name}: finalizers hold deletion; removing the last one completes it`, async () => {
    const { client, namespace } = await target.setup();
    const r = resources.configMaps;
    await client.create(r, { metadata: { name: 'f', namespace, finalizers: ['example.com/hold'] } });
    const events: WatchEvent<KubeObject>[] = [];
    const ac = new AbortController();
    const rv = (await client.list(r, { namespace })).metadata.resourceVersion;
    const watching = (async () => {
      for await (const ev of client.watch(r, { namespace, resourceVersion: rv, signal: ac.signal }))
        events.push(ev);
    })();
    await client.delete(r, 'f', { namespace });
    const held = await client.get(r, 'f', { namespace });
    assert.ok(held.metadata.deletionTimestamp);
    await client.patch(r, 'f', 'merge', { metadata: { finalizers: null } }, { namespace });
    await assert.rejects(client.get(r, 'f', { namespace }), NotFoundError);
    const deadline = Date.now() + 5000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    ac.abort();
    await watching;
    assert.deepEqual(
      events.map((e) => e.type),
      ['MODIFIED', 'DELETED'],
    );
  });
}
