import assert from 'node:assert/strict';
import test from 'node:test';
import { UnavailableError } from '../lib/errors.ts';
import { FakeClock, flush } from './clock.ts';
import { FakeClient } from './fake-client.ts';
import { Informer } from './informer.ts';
import { InformerFactory } from './informer-factory.ts';
import type { Pod } from './objects.ts';
import { resources } from './resources.ts';
import { nodeNameIndex } from './store.ts';

const pod = (name: string, nodeName?: string): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { containers: [], ...(nodeName ? { nodeName } : {}) },
});

/** Polls `cond` (letting I/O and timers run) until true or 2 s pass. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await flush();
  }
}

function recorder(inf: Informer<Pod>): string[] {
  const log: string[] = [];
  inf.addHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name}`),
    onUpdate: (a, b) =>
      log.push(`update ${a.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}`),
  });
  return log;
}

test('informer lists, syncs, then follows watch events; indexes stay current', async () => {
  const f = new FakeClient();
  f.seed(resources.pods, pod('a'), pod('b', 'n1'));
  const inf = new Informer<Pod>(f, resources.pods, {
    indexers: { node: nodeNameIndex },
    clock: new FakeClock(),
  });
  const log = recorder(inf);
  inf.start();
  assert.equal(await inf.waitForSync(), true);
  assert.deepEqual(log.sort(), ['add a', 'add b']);
  log.length = 0;
  await until(() => f.openWatches === 1, 'the watch');
  await f.patch(resources.pods, 'a', 'merge', { spec: { nodeName: 'n1' } }, { namespace: 'default' });
  await f.delete(resources.pods, 'b', { namespace: 'default' });
  f.seed(resources.pods, pod('c'));
  await f.settle();
  assert.equal(log.length, 3, 'settle waits for the informer to take every event');
  assert.match(log[0] ?? '', /^update a \d+->\d+$/);
  assert.deepEqual(log.slice(1), ['delete b', 'add c']);
  assert.deepEqual(
    inf.store.byIndex('node', 'n1').map((p) => p.metadata.name),
    ['a'],
  );
  assert.deepEqual(
    inf.store.byIndex('node', '').map((p) => p.metadata.name),
    ['c'],
  );
  assert.throws(() => {
    (inf.store.get('default/a') as Pod).metadata.name = 'x';
  }, TypeError);
  await inf.stop();
  assert.equal(f.openWatches, 0);
});

test('a disconnected watch resumes from the last resourceVersion without a re-list', async () => {
  const f = new FakeClient();
  const clock = new FakeClock();
  const inf = new Informer<Pod>(f, resources.pods, { clock });
  const log = recorder(inf);
  inf.start();
  await inf.waitForSync();
  await until(() => f.openWatches === 1, 'the watch');
  f.closeWatches();
  f.seed(resources.pods, pod('while-away'));
  await flush();
  assert.equal(f.openWatches, 0, 'an empty watch that ended at once is retried only after a back-off');
  await clock.advance(500);
  await until(() => log.includes('add while-away'), 'the missed add');
  assert.equal(inf.listCount, 1);
  await inf.stop();
});

test('410 Gone makes the informer list again and deliver the differences', async () => {
  const f = new FakeClient();
  f.seed(resources.pods, pod('stays'), pod('goes'));
  const clock = new FakeClock();
  const inf = new Informer<Pod>(f, resources.pods, { clock });
  const log = recorder(inf);
  inf.start();
  await inf.waitForSync();
  await until(() => f.openWatches === 1, 'the watch');
  log.length = 0;
  // Disconnect, change things, and forget history: the resume gets 410.
  f.addReactor((a) => {
    if (a.verb === 'watch' && inf.listCount === 1) f.compact();
  });
  f.closeWatches();
  await f.delete(resources.pods, 'goes', { namespace: 'default' });
  f.seed(resources.pods, pod('new'));
  await clock.advance(500);
  await until(() => inf.listCount === 2 && log.length === 2, 're-list');
  assert.deepEqual(log.sort(), ['add new', 'delete goes']);
  assert.deepEqual(inf.store.keys().sort(), ['default/new', 'default/stays']);
  await inf.stop();
});

test('failed lists are retried with exponential back-off on the clock', async () => {
  const f = new FakeClient();
  const clock = new FakeClock();
  let failures = 3;
  f.addReactor((a) => {
    if (a.verb === 'list' && failures-- > 0) throw new UnavailableError('server down');
  });
  const inf = new Informer<Pod>(f, resources.pods, { clock, backoffMs: { initial: 100, max: 1000 } });
  inf.start();
  const lists = () => f.actions.filter((a) => a.verb === 'list').length;
  await until(() => lists() === 1, 'first list');
  await clock.advance(99);
  assert.equal(lists(), 1);
  await clock.advance(1);
  await until(() => lists() === 2, 'second list after 100 ms');
  await clock.advance(200);
  await until(() => lists() === 3, 'third list after 200 ms more');
  assert.equal(inf.hasSynced(), false);
  await clock.advance(400);
  assert.equal(await inf.waitForSync(), true);
  await inf.stop();
});

test('resync replays the cache to onUpdate; waitForSync gives false when aborted', async () => {
  const f = new FakeClient();
  f.seed(resources.pods, pod('a'));
  const clock = new FakeClock();
  const inf = new Informer<Pod>(f, resources.pods, { clock, resyncMs: 1000 });
  const log = recorder(inf);
  const ac = new AbortController();
  ac.abort();
  assert.equal(await inf.waitForSync(ac.signal), false);
  inf.start();
  await inf.waitForSync();
  await clock.advance(1000);
  await clock.advance(1000);
  assert.equal(log.filter((l) => l.startsWith('update a')).length, 2);
  await inf.stop();
});

test('factory shares one informer per resource and scope, and late handlers see the cache', async () => {
  const f = new FakeClient();
  f.seed(resources.pods, pod('a', 'n1'), pod('b', 'n2'));
  const factory = new InformerFactory(f, { clock: new FakeClock() });
  const one = factory.informerFor<Pod>(resources.pods, {}, { node: nodeNameIndex });
  const same = factory.informerFor<Pod>(resources.pods, {}, { node: nodeNameIndex });
  const onN1 = factory.informerFor<Pod>(resources.pods, { fieldSelector: 'spec.nodeName=n1' });
  assert.equal(one, same);
  assert.notEqual(one, onN1);
  factory.start();
  assert.equal(await factory.waitForSync(), true);
  assert.deepEqual(onN1.store.keys(), ['default/a']);
  const late: string[] = [];
  one.addHandler({ onAdd: (o) => late.push(o.metadata.name ?? '') });
  assert.deepEqual(late.sort(), ['a', 'b']);
  const nodes = factory.informerFor(resources.nodes);
  assert.equal(await nodes.waitForSync(), true, 'informers made after start are started');
  await factory.stop();
  assert.equal(f.openWatches, 0);
});
