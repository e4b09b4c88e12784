import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBool, parseFilters } from './filters.ts';

const cases = [
  { name: 'empty', raw: null, want: {} },
  { name: 'go map of bools', raw: '{"status":{"exited":true,"dead":false}}', want: { status: ['exited'] } },
  { name: 'py arrays', raw: '{"label": ["a=b", "c"]}', want: { label: ['a=b', 'c'] } },
  { name: 'mixed', raw: '{"label":{"x":true},"name":["web"]}', want: { label: ['x'], name: ['web'] } },
];
for (const tc of cases) {
  test(`parseFilters: ${tc.name}`, () => assert.deepEqual(parseFilters(tc.raw), tc.want));
}

test('parseFilters rejects bad JSON and shapes', () => {
  assert.throws(() => parseFilters('{'), /invalid filter/);
  assert.throws(() => parseFilters('[1]'), /invalid filter/);
  assert.throws(() => parseFilters('{"a":{"b":1}}'), /expected a boolean/);
});

test('parseBool accepts CLI and python spellings', () => {
  for (const t of ['1', 'true', 'True', 't']) assert.equal(parseBool(t), true);
  for (const f of ['0', 'false', 'False', 'f']) assert.equal(parseBool(f), false);
  assert.equal(parseBool(null, true), true);
  assert.throws(() => parseBool('maybe'), /invalid boolean/);
});
