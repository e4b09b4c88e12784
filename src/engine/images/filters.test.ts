import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import { matchesFilters, untilTime } from './filters.ts';
import type { ImageRecord } from './metadata.ts';
import type { ImageConfig } from './oci.ts';

const record = (tags: string[]): ImageRecord => ({
  id: `sha256:${'a'.repeat(64)}`,
  manifestDigest: `sha256:${'b'.repeat(64)}`,
  layers: [],
  tags,
  digests: [],
  parent: '',
  created: '',
  lastTagTime: '',
});
const config: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-01-01T00:00:00Z',
  config: { Labels: { team: 'web', 'a.b': 'x=y' } },
  rootfs: { type: 'layers', diff_ids: [] },
};
const now = Date.parse('2024-01-02T00:00:00Z');

const cases: { name: string; tags: string[]; filters: Record<string, string[]>; want: boolean }[] = [
  { name: 'no filters', tags: [], filters: {}, want: true },
  { name: 'dangling=true on untagged', tags: [], filters: { dangling: ['true'] }, want: true },
  {
    name: 'dangling=true on tagged',
    tags: ['docker.io/library/a:1'],
    filters: { dangling: ['true'] },
    want: false,
  },
  { name: 'label key', tags: [], filters: { label: ['team'] }, want: true },
  { name: 'label value with =', tags: [], filters: { label: ['a.b=x=y'] }, want: true },
  { name: 'label mismatch', tags: [], filters: { label: ['team=db'] }, want: false },
  { name: 'label! excludes', tags: [], filters: { 'label!': ['team=web'] }, want: false },
  {
    name: 'reference glob',
    tags: ['docker.io/library/busybox:1.35'],
    filters: { reference: ['busy*'] },
    want: true,
  },
  {
    name: 'reference with tag',
    tags: ['docker.io/library/busybox:1.35'],
    filters: { reference: ['busybox:1.*'] },
    want: true,
  },
  {
    name: 'reference miss',
    tags: ['docker.io/library/busybox:1.35'],
    filters: { reference: ['alpine'] },
    want: false,
  },
  { name: 'until 12h: older image matches', tags: [], filters: { until: ['12h'] }, want: true },
  { name: 'until 48h: newer image kept', tags: [], filters: { until: ['48h'] }, want: false },
  { name: 'until timestamp', tags: [], filters: { until: ['2023-12-31T00:00:00Z'] }, want: false },
];
for (const tc of cases) {
  test(tc.name, () => assert.equal(matchesFilters(record(tc.tags), config, tc.filters, now), tc.want));
}

test('until parses durations, unix seconds and rejects nonsense', () => {
  assert.equal(untilTime('1h30m', now), now - 90 * 60e3);
  assert.equal(untilTime('1700000000', now), 1700000000e3);
  assert.throws(() => untilTime('yesterday', now), InvalidError);
});
