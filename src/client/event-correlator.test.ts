import assert from 'node:assert/strict';
import test from 'node:test';
import { EventCorrelator } from './event-correlator.ts';
import type { Event } from './objects.ts';

const ev = (message: string, over: Partial<Event> = {}): Event => ({
  metadata: {},
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' },
  reason: 'BackOff',
  message,
  type: 'Warning',
  source: { component: 'kubelet', host: 'n1' },
  ...over,
});

test('identical events share a key; another message or object gets its own', () => {
  const c = new EventCorrelator(() => 0);
  const a = c.correlate(ev('x'));
  const b = c.correlate(ev('x'));
  const d = c.correlate(ev('y'));
  const e = c.correlate(
    ev('x', { involvedObject: { kind: 'Pod', namespace: 'default', name: 'api', uid: 'u2' } }),
  );
  assert.ok(!a.skip && !b.skip && !d.skip && !e.skip);
  assert.equal(a.key, b.key);
  assert.notEqual(a.key, d.key);
  assert.notEqual(a.key, e.key);
});

const combineCases = [
  { name: 'nine distinct messages stay apart', distinct: 9, gapMs: 1000, combinedAt: [] as number[] },
  { name: 'the tenth distinct message is combined', distinct: 12, gapMs: 1000, combinedAt: [9, 10, 11] },
  {
    name: 'similar events more than 10 minutes apart are not combined',
    distinct: 12,
    gapMs: 11 * 60_000,
    combinedAt: [],
  },
];

for (const tc of combineCases) {
  test(`similar events: ${tc.name}`, () => {
    let now = 0;
    const c = new EventCorrelator(() => now, { spamBurst: 1000 });
    const combined: number[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < tc.distinct; i++) {
      now += tc.gapMs;
      const r = c.correlate(ev(`message ${i}`));
      assert.ok(!r.skip);
      if (r.event.message?.startsWith('(combined from similar events): ')) {
        combined.push(i);
        assert.equal(r.event.message, `(combined from similar events): message ${i}`);
        keys.add(r.key);
      }
    }
    assert.deepEqual(combined, tc.combinedAt);
    assert.ok(keys.size <= 1, 'combined events share one key (one Event, counted)');
  });
}

test('the spam filter lets a burst of 25 through, then one per 5 minutes per object', () => {
  let now = 0;
  const c = new EventCorrelator(() => now);
  const passed = () => {
    let n = 0;
    for (let i = 0; i < 100; i++) if (!c.correlate(ev('hot loop')).skip) n++;
    return n;
  };
  assert.equal(passed(), 25);
  assert.ok(
    c.correlate(ev('x', { involvedObject: { kind: 'Pod', name: 'other', uid: 'u3' } })).skip === false,
  );
  now += 299_000;
  assert.equal(passed(), 0);
  now += 1_000;
  assert.equal(passed(), 1);
  now += 3_600_000;
  assert.equal(passed(), 12);
});
