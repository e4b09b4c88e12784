import assert from 'node:assert/strict';
import test from 'node:test';
import { parseSchedule } from './cron.ts';
import { InvalidError } from './errors.ts';

const t = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString());

const cases = [
  { spec: '*/15 * * * *', from: '2026-01-01T00:07:30Z', want: '2026-01-01T00:15:00.000Z' },
  { spec: '@hourly', from: '2026-01-01T10:00:00Z', want: '2026-01-01T11:00:00.000Z' },
  { spec: '@daily', from: '2026-01-31T23:59:00Z', want: '2026-02-01T00:00:00.000Z' },
  { spec: '@weekly', from: '2026-01-01T00:00:00Z', want: '2026-01-04T00:00:00.000Z' },
  { spec: '@yearly', from: '2026-06-01T00:00:00Z', want: '2027-01-01T00:00:00.000Z' },
  { spec: '30 9 * * mon-fri', from: '2026-01-02T10:00:00Z', want: '2026-01-05T09:30:00.000Z' },
  { spec: '0 0 29 feb *', from: '2026-03-01T00:00:00Z', want: '2028-02-29T00:00:00.000Z' },
  { spec: '0 12 1 * 7', from: '2026-01-01T13:00:00Z', want: '2026-01-04T12:00:00.000Z' },
  { spec: '5,10 0-1 * jan,feb *', from: '2026-01-01T00:05:00Z', want: '2026-01-01T00:10:00.000Z' },
  {
    spec: '0 9 * * *',
    tz: 'America/New_York',
    from: '2026-01-01T00:00:00Z',
    want: '2026-01-01T14:00:00.000Z',
  },
  { spec: 'CRON_TZ=Europe/Berlin 0 9 * * *', from: '2026-07-01T00:00:00Z', want: '2026-07-01T07:00:00.000Z' },
  // 02:30 does not exist in New York on 2026-03-08 (DST starts): the next day's.
  {
    spec: '30 2 * * *',
    tz: 'America/New_York',
    from: '2026-03-08T00:00:00Z',
    want: '2026-03-09T06:30:00.000Z',
  },
];

for (const tc of cases) {
  test(`cron: ${tc.spec}${tc.tz ? ` (${tc.tz})` : ''} after ${tc.from}`, () => {
    assert.equal(iso(parseSchedule(tc.spec, tc.tz).next(t(tc.from))), tc.want);
  });
}

for (const bad of ['not a cron', '* * * *', '61 * * * *', '* * * * 8', '*/0 * * * *', '5-1 * * * *']) {
  test(`cron: "${bad}" is InvalidError`, () => assert.throws(() => parseSchedule(bad), InvalidError));
}

test('cron: an unknown time zone is InvalidError', () => {
  assert.throws(() => parseSchedule('@daily', 'Mars/Olympus'), InvalidError);
});
