import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from './content-store.ts';
import { chainIds } from './snapshots.ts';

test('chain ids follow the OCI definition', () => {
  const a = sha256('a');
  const b = sha256('b');
  const c = sha256('c');
  const ab = sha256(`${a} ${b}`);
  assert.deepEqual(chainIds([]), []);
  assert.deepEqual(chainIds([a]), [a]);
  assert.deepEqual(chainIds([a, b, c]), [a, ab, sha256(`${ab} ${c}`)]);
});
