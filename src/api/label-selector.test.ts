import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesLabels, parseLabelSelector } from './label-selector.ts';

const labels = { app: 'web', tier: 'frontend', env: 'prod' };

const cases: { selector: string; want: boolean }[] = [
  { selector: '', want: true },
  { selector: 'app=web', want: true },
  { selector: 'app==web,tier=frontend', want: true },
  { selector: 'app!=web', want: false },
  { selector: 'app in (web, api)', want: true },
  { selector: 'env notin (prod)', want: false },
  { selector: 'tier', want: true },
  { selector: '!tier', want: false },
  { selector: '!missing,app=web', want: true },
  { selector: 'missing!=x', want: true },
];

for (const tc of cases) {
  test(`label selector "${tc.selector}"`, () => {
    assert.equal(matchesLabels(parseLabelSelector(tc.selector), labels), tc.want);
  });
}

test('label selector syntax errors throw', () => {
  assert.throws(() => parseLabelSelector('app in (web'), /missing '\)'/);
  assert.throws(() => parseLabelSelector('=x'), /identifier/);
});
