import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesSize, humanDuration, humanSize, parseDuration, parseSize, parseTimestamp } from './units.ts';

const sizes: [string, number][] = [
  ['1024', 1024],
  ['512m', 536870912],
  ['512M', 536870912],
  ['1g', 1073741824],
  ['1.5g', 1610612736],
  ['64MiB', 67108864],
  ['64mb', 67108864],
  ['10k', 10240],
  ['2t', 2 * 1024 ** 4],
  ['7b', 7],
];
for (const [text, want] of sizes) test(`parseSize ${text}`, () => assert.equal(parseSize(text), want));

for (const bad of ['', 'm', '12x', '1.2.3g', '-1g', 'lots']) {
  test(`parseSize rejects ${JSON.stringify(bad)} saying how to write a size`, () => {
    assert.throws(
      () => parseSize(bad, '--memory'),
      /invalid size .* for --memory: use a number with an optional unit/,
    );
  });
}

const human: [number, string][] = [
  [0, '0B'],
  [999, '999B'],
  [1984264, '1.98MB'],
  [4096, '4.1kB'],
  [23.54 * 1e9, '23.5GB'],
];
for (const [n, want] of human) test(`humanSize ${n}`, () => assert.equal(humanSize(n), want));
test('humanSize with 4 digits as VirtualSize', () => assert.equal(humanSize(1984264, 4), '1.984MB'));

const binary: [number, string][] = [
  [389120, '380KiB'],
  [67108864, '64MiB'],
  [25275777843, '23.54GiB'],
];
for (const [n, want] of binary) test(`bytesSize ${n}`, () => assert.equal(bytesSize(n), want));

const durations: [number, string][] = [
  [500, 'Less than a second'],
  [1000, '1 second'],
  [5000, '5 seconds'],
  [60_000, 'About a minute'],
  [5 * 60_000, '5 minutes'],
  [3_600_000, 'About an hour'],
  [3 * 3_600_000, '3 hours'],
  [3 * 86_400_000, '3 days'],
  [21 * 86_400_000, '3 weeks'],
  [90 * 86_400_000, '3 months'],
  [3 * 365 * 86_400_000, '3 years'],
];
for (const [ms, want] of durations) test(`humanDuration ${ms}`, () => assert.equal(humanDuration(ms), want));

test('parseDuration', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('10'), undefined);
  assert.equal(parseDuration('10x'), undefined);
});

test('parseTimestamp: durations ago, unix seconds, RFC 3339', () => {
  const now = Date.parse('2026-11-23T11:15:45Z');
  assert.equal(parseTimestamp('10s', '--since', now), String(now / 1000 - 10));
  assert.equal(parseTimestamp('1795432441.5', '--since', now), '1795432441.5');
  assert.equal(parseTimestamp('2026-11-23T11:15:44Z', '--since', now), String(now / 1000 - 1));
  assert.throws(() => parseTimestamp('yesterday', '--since', now), /invalid time "yesterday" for --since/);
});
