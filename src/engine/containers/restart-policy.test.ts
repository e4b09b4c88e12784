import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextDelay, shouldRestart, validateRestartPolicy } from './restart-policy.ts';

const base = { exitCode: 1, stoppedByUser: false, restartCount: 0, autoRemove: false };
const cases = [
  { name: 'no policy', policy: undefined, facts: base, want: false },
  { name: 'always after failure', policy: { Name: 'always' as const }, facts: base, want: true },
  {
    name: 'always after success',
    policy: { Name: 'always' as const },
    facts: { ...base, exitCode: 0 },
    want: true,
  },
  {
    name: 'always but stopped by user',
    policy: { Name: 'always' as const },
    facts: { ...base, stoppedByUser: true },
    want: false,
  },
  {
    name: 'on-failure after success',
    policy: { Name: 'on-failure' as const },
    facts: { ...base, exitCode: 0 },
    want: false,
  },
  {
    name: 'on-failure:2 after 1 retry',
    policy: { Name: 'on-failure' as const, MaximumRetryCount: 2 },
    facts: { ...base, restartCount: 1 },
    want: true,
  },
  {
    name: 'on-failure:2 after 2 retries',
    policy: { Name: 'on-failure' as const, MaximumRetryCount: 2 },
    facts: { ...base, restartCount: 2 },
    want: false,
  },
  {
    name: 'unless-stopped with --rm',
    policy: { Name: 'unless-stopped' as const },
    facts: { ...base, autoRemove: true },
    want: false,
  },
];
for (const tc of cases) test(tc.name, () => assert.equal(shouldRestart(tc.policy, tc.facts), tc.want));

test('back-off doubles, caps and resets', () => {
  assert.equal(nextDelay(0, 0), 100);
  assert.equal(nextDelay(100, 50), 200);
  assert.equal(nextDelay(40_000, 50), 60_000);
  assert.equal(nextDelay(40_000, 20_000), 100);
});

test('invalid policies are explained', () => {
  assert.match(validateRestartPolicy({ Name: 'sometimes' as never }) ?? '', /unknown policy 'sometimes'/);
  assert.match(
    validateRestartPolicy({ Name: 'always', MaximumRetryCount: 3 }) ?? '',
    /only be used with 'on-failure'/,
  );
  assert.equal(validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 }), undefined);
});
