import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from './events.ts';

test('replays history since a time and applies filters', async () => {
  const bus = new EventBus();
  const start = Date.now() / 1000 - 1;
  bus.publish('container', 'create', 'aaa', { name: 'web', image: 'busybox' });
  bus.publish('container', 'start', 'aaa', { name: 'web', image: 'busybox' });
  bus.publish('network', 'create', 'nnn', { name: 'front' });
  const seen: string[] = [];
  for await (const e of bus.stream({
    since: start,
    until: Date.now() / 1000 + 1,
    filters: { type: ['container'] },
  })) {
    seen.push(e.Action);
  }
  assert.deepEqual(seen, ['create', 'start']);
});

test('delivers live events until aborted', async () => {
  const bus = new EventBus();
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of bus.stream({ signal: ac.signal, filters: { event: ['die'] } })) {
      seen.push(e.Actor.ID);
      ac.abort();
    }
  })();
  bus.publish('container', 'start', 'x');
  bus.publish('container', 'die', 'y', { exitCode: '3' });
  await done;
  assert.deepEqual(seen, ['y']);
});

test('label filters need every label to match', async () => {
  const bus = new EventBus();
  bus.publish('container', 'create', 'a', { app: 'web', tier: 'front' });
  bus.publish('container', 'create', 'b', { app: 'web' });
  const ids: string[] = [];
  for await (const e of bus.stream({
    since: 0,
    until: Date.now() / 1000 + 1,
    filters: { label: ['app=web', 'tier'] },
  })) {
    ids.push(e.Actor.ID);
  }
  assert.deepEqual(ids, ['a']);
});

test('a stream with an until and no events ends at that time', async () => {
  const bus = new EventBus();
  const started = Date.now();
  const seen = [];
  for await (const e of bus.stream({ until: started / 1000 + 0.05 })) seen.push(e);
  assert.deepEqual(seen, []);
  assert.ok(Date.now() - started >= 49, 'not before the until time');
});

test('events published during a replay are delivered once', async () => {
  const bus = new EventBus();
  bus.publish('container', 'create', 'a');
  const ids: string[] = [];
  for await (const e of bus.stream({ since: 0, until: Date.now() / 1000 + 0.2 })) {
    ids.push(e.Actor.ID);
    if (e.Actor.ID === 'a') bus.publish('container', 'start', 'b');
  }
  assert.deepEqual(ids, ['a', 'b']);
});
