import assert from 'node:assert/strict';
import test from 'node:test';
import { UnavailableError } from '../lib/errors.ts';
import { FakeClock } from './clock.ts';
import { EventRecorder } from './event-recorder.ts';
import { FakeClient } from './fake-client.ts';
import type { Event } from './objects.ts';
import { resources } from './resources.ts';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' } };

test('repeated events aggregate into one Event with a count; different messages do not', async () => {
  const f = new FakeClient();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const rec = new EventRecorder({ client: f, component: 'default-scheduler', clock });
  rec.event(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
  await clock.advance(5000);
  rec.event(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
  rec.event(pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to n1');
  await rec.flush();
  const events = (await f.list<Event>(resources.events, { namespace: 'default' })).items;
  const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
  assert.equal(events.length, 2);
  assert.equal(byReason.FailedScheduling?.count, 2);
  assert.equal(byReason.FailedScheduling?.firstTimestamp, '2026-01-01T00:00:00Z');
  assert.equal(byReason.FailedScheduling?.lastTimestamp, '2026-01-01T00:00:05Z');
  assert.deepEqual(byReason.Scheduled?.involvedObject, {
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: 'default',
    name: 'web',
    uid: 'u1',
  });
  assert.equal(byReason.Scheduled?.source?.component, 'default-scheduler');
});

test('a deleted aggregate is created again, and write failures are swallowed', async () => {
  const f = new FakeClient();
  const rec = new EventRecorder({ client: f, component: 'c' });
  rec.event(pod, 'Normal', 'Pulled', 'pulled');
  await rec.flush();
  const [first] = (await f.list<Event>(resources.events)).items;
  await f.delete(resources.events, first?.metadata.name ?? '', { namespace: 'default' });
  rec.event(pod, 'Normal', 'Pulled', 'pulled');
  await rec.flush();
  const again = (await f.list<Event>(resources.events)).items;
  assert.equal(again.length, 1);
  assert.equal(again[0]?.count, 2);
  f.addReactor((a) => {
    if (a.resource === 'events') throw new UnavailableError('down');
  });
  rec.event(pod, 'Warning', 'BackOff', 'back-off');
  await rec.flush();
});

test('a hot loop writes at most the burst, counted on one Event; similar messages are combined', async () => {
  const f = new FakeClient();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const rec = new EventRecorder({ client: f, component: 'c', clock });
  for (let i = 0; i < 1000; i++) rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  await rec.flush();
  let events = (await f.list<Event>(resources.events)).items;
  assert.equal(events.length, 1);
  assert.equal(events[0]?.count, 25);
  assert.equal(rec.dropped, 975);
  assert.equal(f.writes().length, 25);

  const other = { ...pod, metadata: { ...pod.metadata, name: 'api', uid: 'u2' } };
  for (let i = 0; i < 15; i++) rec.event(other, 'Warning', 'FailedMount', `volume ${i} missing`);
  await rec.flush();
  events = (await f.list<Event>(resources.events)).items.filter((e) => e.involvedObject.name === 'api');
  assert.equal(events.length, 10);
  const combined = events.find((e) => e.message?.startsWith('(combined from similar events): '));
  assert.equal(combined?.count, 6);
  assert.equal(combined?.message, '(combined from similar events): volume 14 missing');
});
