import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { adminKubeconfig } from '../src/apiserver/kubeconfig.ts';
import { loadOrCreatePki } from '../src/apiserver/pki.ts';
import { ApiServer } from '../src/apiserver/server.ts';
import { clientConformance } from '../src/client/conformance.ts';
import {
  type Client,
  clientset,
  connectionFromKubeconfig,
  EventRecorder,
  GoneError,
  HttpClient,
  InformerFactory,
  type KubeObject,
  LeaderElector,
  type Lease,
  loadKubeconfig,
  nodeNameIndex,
  type Pod,
  resources,
  statusOf,
  type WatchEvent,
} from '../src/client/index.ts';
import {
  AlreadyExistsError,
  ConflictError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
} from '../src/lib/errors.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { MemoryStore } from '../src/storage/memory.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

const ns = 'drv-client-test';
let server: TestServer;
let client: HttpClient;
const cs = () => clientset(client);

/** Polls `cond` until true or `ms` pass (no fixed sleeps). */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  await cs().namespaces.create({ metadata: { name: ns } });
});

after(async () => {
  client?.close();
  await server?.stop();
});

let conformanceNamespaces = 0;
clientConformance('drover server', {
  setup: async () => {
    const namespace = `drv-client-conf-${++conformanceNamespaces}`;
    await cs().namespaces.create({ metadata: { name: namespace } });
    return { client, namespace };
  },
});

test('CRUD, patches, preconditions and error classes against the real server', async () => {
  const cm = cs().configMaps;
  const a = await cm.create({
    metadata: { name: 'a', namespace: ns, labels: { app: 'x' } },
    data: { k: '1' },
  });
  assert.equal(a.kind, 'ConfigMap');
  await assert.rejects(cm.create({ metadata: { name: 'a', namespace: ns } }), AlreadyExistsError);
  const updated = await cm.update({ ...a, data: { k: '2' } });
  await assert.rejects(cm.update({ ...a, data: { k: '3' } }), ConflictError, 'stale resourceVersion');
  const patches: [Parameters<typeof cm.patch>[1], unknown, Record<string, string>][] = [
    ['merge', { data: { m: '1' } }, { k: '2', m: '1' }],
    ['strategic', { data: { s: '1' } }, { k: '2', m: '1', s: '1' }],
    ['json', [{ op: 'remove', path: '/data/m' }], { k: '2', s: '1' }],
  ];
  for (const [type, body, want] of patches) {
    const got = await cm.patch('a', type, body, { namespace: ns });
    assert.deepEqual(got.data, want, type);
  }
  const applied = await cm.patch(
    'b',
    'apply',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: ns }, data: { z: '1' } },
    { namespace: ns, fieldManager: 'drv-client-test' },
  );
  assert.deepEqual(applied.data, { z: '1' });
  await assert.rejects(cm.delete('a', { namespace: ns, preconditions: { uid: 'nope' } }), ConflictError);
  await cm.delete('a', { namespace: ns, preconditions: { uid: updated.metadata.uid } });
  const err = await cm.get('a', { namespace: ns }).catch((e: unknown) => e);
  assert.ok(err instanceof NotFoundError);
  assert.equal(statusOf(err)?.reason, 'NotFound');
  await assert.rejects(
    cs().pods.create({ metadata: { name: 'Bad_Name', namespace: ns }, spec: { containers: [] } }),
    InvalidError,
  );
  const conn = await loadKubeconfig(server.kubeconfig);
  const anonymous = new HttpClient({ server: conn.server, ca: conn.ca, token: 'not-a-token' });
  await assert.rejects(anonymous.list(resources.pods), UnauthorizedError);
  anonymous.close();
});

test('list with selectors and limit/continue pages', async () => {
  for (let i = 0; i < 5; i++) {
    await cs().secrets.create({
      metadata: { name: `s${i}`, namespace: ns, labels: { parity: String(i % 2) } },
    });
  }
  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  do {
    const page = await cs().secrets.list({
      namespace: ns,
      labelSelector: 'parity in (0,1)',
      limit: 2,
      continue: cont,
    });
    names.push(...page.items.map((s) => s.metadata.name ?? ''));
    cont = page.metadata.continue || undefined;
    pages++;
  } while (cont);
  assert.deepEqual(names, ['s0', 's1', 's2', 's3', 's4']);
  assert.equal(pages, 3);
  const odd = await cs().secrets.list({
    namespace: ns,
    labelSelector: 'parity=1',
    fieldSelector: 'metadata.name!=s1',
  });
  assert.deepEqual(
    odd.items.map((s) => s.metadata.name),
    ['s3'],
  );
});

test('watch delivers ADDED, MODIFIED and DELETED from a list resourceVersion', async () => {
  const list = await cs().configMaps.list({ namespace: ns });
  const ac = new AbortController();
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const ev of cs().configMaps.watch({
      namespace: ns,
      resourceVersion: list.metadata.resourceVersion,
      signal: ac.signal,
      labelSelector: 'w=1',
    })) {
      events.push(ev);
    }
  })();
  const w = await cs().configMaps.create({ metadata: { name: 'w', namespace: ns, labels: { w: '1' } } });
  await cs().configMaps.update({ ...w, data: { a: 'b' } });
  await cs().configMaps.delete('w', { namespace: ns });
  await until(() => events.length >= 3, 'three watch events');
  ac.abort();
  await done;
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.kind} ${e.object.metadata.name}`),
    ['ADDED ConfigMap w', 'MODIFIED ConfigMap w', 'DELETED ConfigMap w'],
  );
});

test('informers sync, follow binding through an index and a field selector; scale and eviction', async () => {
  await cs().nodes.create({ metadata: { name: 'drv-client-n1' } });
  for (const name of ['p1', 'p2']) {
    await cs().pods.create({
      metadata: { name, namespace: ns },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
  }
  const factory = new InformerFactory(client);
  const pods = factory.informerFor<Pod>(resources.pods, { namespace: ns }, { node: nodeNameIndex });
  const onNode = factory.informerFor<Pod>(resources.pods, { fieldSelector: 'spec.nodeName=drv-client-n1' });
  const ac = new AbortController();
  factory.start(ac.signal);
  assert.equal(await factory.waitForSync(AbortSignal.timeout(5000)), true);
  assert.deepEqual(
    pods.store
      .byIndex('node', '')
      .map((p) => p.metadata.name)
      .sort(),
    ['p1', 'p2'],
  );
  assert.equal(
    pods.store.get(`${ns}/p1`)?.metadata.managedFields,
    undefined,
    'the factory strips managedFields',
  );
  assert.equal(onNode.store.size, 0);
  await cs().pods.bind(ns, 'p1', 'drv-client-n1');
  await until(() => onNode.store.has(`${ns}/p1`), 'the bound pod in the node-scoped informer');
  await until(() => pods.store.byIndex('node', 'drv-client-n1').length === 1, 'the node index');
  await cs().pods.evict(ns, 'p2');
  await until(async () => {
    const p = await cs()
      .pods.get('p2', { namespace: ns })
      .catch(() => undefined);
    return !p || !!p.metadata.deletionTimestamp;
  }, 'eviction');
  await cs().deployments.create({
    metadata: { name: 'd', namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'd' } },
      template: {
        metadata: { labels: { app: 'd' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  });
  const scale = await cs().deployments.getScale('d', { namespace: ns });
  await cs().deployments.updateScale({ ...scale, spec: { replicas: 4 } });
  assert.equal((await cs().deployments.get('d', { namespace: ns })).spec?.replicas, 4);
  ac.abort();
  await factory.stop();
});

test('the event recorder aggregates repeated events on the server', async () => {
  const p = await cs().pods.create({
    metadata: { name: 'ev', namespace: ns },
    spec: { containers: [{ name: 'c', image: 'x' }] },
  });
  const rec = new EventRecorder({ client, component: 'drv-client-test' });
  rec.event(p, 'Warning', 'FailedScheduling', '0/0 nodes are available.');
  rec.event(p, 'Warning', 'FailedScheduling', '0/0 nodes are available.');
  await rec.flush();
  const events = await cs().events.list({ namespace: ns, fieldSelector: 'involvedObject.name=ev' });
  assert.equal(events.items.length, 1);
  assert.equal(events.items[0]?.count, 2);
  assert.equal(events.items[0]?.reason, 'FailedScheduling');
});

test('leader election between two electors over a real Lease', async () => {
  const lease = { namespace: ns, name: 'drv-client-leader' };
  const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 100 };
  const leading: string[] = [];
  const mk = (identity: string) =>
    new LeaderElector({ client, lease, identity, ...timing, onStartedLeading: () => leading.push(identity) });
  const a = mk('a');
  const b = mk('b');
  const stopA = new AbortController();
  const stopB = new AbortController();
  const runA = a.run(stopA.signal);
  await until(() => a.isLeader(), 'a to lead');
  const runB = b.run(stopB.signal);
  await until(() => b.leader === 'a', 'b to observe a');
  assert.equal(b.isLeader(), false);
  const released = Date.now();
  stopA.abort();
  await runA;
  await until(() => b.isLeader(), 'b to take over after a released', 3000);
  assert.ok(Date.now() - released < 1000, 'b took the released lease, not an expired one');
  const l = await client.get<Lease>(resources.leases, lease.name, { namespace: ns });
  assert.equal(l.spec?.holderIdentity, 'b');
  assert.equal(l.spec?.leaseTransitions, 1);
  stopB.abort();
  await runB;
  assert.deepEqual(leading, ['a', 'b']);
});

/**
 * A Client whose watches can be cut and held back: lets a test change and
 * compact the store between an informer's watches, so its resume gets 410.
 */
function gated(inner: Client) {
  let cut = new AbortController();
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  async function* watch(r: Parameters<Client['watch']>[0], opts: Parameters<Client['watch']>[1] = {}) {
    await gate;
    const signal = AbortSignal.any([cut.signal, ...(opts.signal ? [opts.signal] : [])]);
    yield* inner.watch(r, { ...opts, signal });
  }
  const client = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'watch') return watch;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return {
    client,
    /** Ends open watches and holds new ones until `release`. */
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
      cut.abort();
      cut = new AbortController();
    },
    release: () => open(),
  };
}

test('an informer lists again after its watch gets 410 Gone (in-process server, compacted store)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'drv-client-gone-'));
  const store = new MemoryStore();
  const pki = await loadOrCreatePki(path.join(dir, 'tls'), ['127.0.0.1']);
  const api = new ApiServer({
    store,
    pki,
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    compactIntervalMs: 0,
  });
  let http: HttpClient | undefined;
  let factory: InformerFactory | undefined;
  try {
    await api.start();
    http = new HttpClient(await connectionFromKubeconfig(adminKubeconfig(pki, api.url), dir));
    const local = clientset(http);
    await local.configMaps.create({ metadata: { name: 'stays', namespace: 'default' } });
    await local.configMaps.create({ metadata: { name: 'goes', namespace: 'default' } });
    const old = (await local.configMaps.list({ namespace: 'default' })).metadata.resourceVersion;
    await local.configMaps.create({ metadata: { name: 'later', namespace: 'default' } });
    await local.configMaps.patch('later', 'merge', { data: { a: 'b' } }, { namespace: 'default' });
    // Compacting at the newest revision drops the change right after `old`: watching from it is 410.
    await store.compact(await store.currentRevision());
    await assert.rejects(async () => {
      const signal = AbortSignal.timeout(5000);
      for await (const _ of local.configMaps.watch({ namespace: 'default', resourceVersion: old, signal })) {
        // a compacted revision yields no events, only the 410
      }
    }, GoneError);

    const g = gated(http);
    factory = new InformerFactory(g.client);
    const inf = factory.informerFor<KubeObject>(resources.configMaps, { namespace: 'default' });
    const seen: string[] = [];
    inf.addHandler({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    factory.start();
    await inf.waitForSync();
    assert.equal(inf.listCount, 1);
    seen.length = 0;
    g.hold();
    await local.configMaps.delete('goes', { namespace: 'default' });
    await local.configMaps.create({ metadata: { name: 'new', namespace: 'default' } });
    await store.compact(await store.currentRevision());
    g.release();
    await until(() => inf.listCount === 2 && seen.length === 2, 'the re-list after 410');
    assert.deepEqual(seen.sort(), ['add new', 'delete goes']);
    assert.deepEqual(inf.store.keys().sort(), ['default/later', 'default/new', 'default/stays']);
  } finally {
    await factory?.stop();
    http?.close();
    await api.stop().catch(() => {});
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
