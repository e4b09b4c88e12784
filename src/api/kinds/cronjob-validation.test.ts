import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../types.ts';
import { cronJob } from './batch.ts';

const cj = (schedule: string, timeZone?: string): KubeObject => ({
  metadata: { name: 'tick', namespace: 'default' },
  spec: {
    schedule,
    ...(timeZone === undefined ? {} : { timeZone }),
    jobTemplate: {
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      },
    },
  },
});

function errors(obj: KubeObject): string[] {
  const o = structuredClone(obj);
  cronJob.strategy.defaults?.(o);
  return (cronJob.strategy.validate?.(o) ?? []).map((e) => `${e.field}: ${e.message}`);
}

test('cron schedules are parsed at the API: bad ones are Invalid with the reason', () => {
  const table: [string, RegExp | undefined][] = [
    ['*/5 * * * *', undefined],
    ['@hourly', undefined],
    ['0 9 * * MON-FRI', undefined],
    ['61 * * * *', /^spec\.schedule: .*61/],
    ['* * * *', /^spec\.schedule: .*5 fields/],
    ['*/0 * * * *', /^spec\.schedule: /],
    ['not a schedule at all', /^spec\.schedule: /],
  ];
  for (const [schedule, want] of table) {
    const errs = errors(cj(schedule)).filter((e) => e.startsWith('spec.schedule'));
    if (!want) assert.deepEqual(errs, [], schedule);
    else assert.match(errs.join('\n'), want, schedule);
  }
});

test('an unknown spec.timeZone is Invalid; a known one is fine', () => {
  assert.deepEqual(
    errors(cj('0 * * * *', 'Europe/Berlin')).filter((e) => e.startsWith('spec.timeZone')),
    [],
  );
  assert.match(errors(cj('0 * * * *', 'Mars/Olympus')).join('\n'), /spec\.timeZone: .*unknown time zone/);
});
