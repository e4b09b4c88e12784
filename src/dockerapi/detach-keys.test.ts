import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DetachScanner, parseDetachKeys } from './detach-keys.ts';

test('parseDetachKeys', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_,a')], [0, 27, 31, 97]);
  assert.throws(() => parseDetachKeys('ctrl-pq'), /invalid detach keys/);
});

const cases = [
  { name: 'plain bytes pass', chunks: ['hello'], pass: 'hello', detached: false },
  { name: 'sequence in one chunk', chunks: ['ab\x10\x11cd'], pass: 'ab', detached: true },
  { name: 'sequence split across chunks', chunks: ['ab\x10', '\x11'], pass: 'ab', detached: true },
  { name: 'broken partial match is released', chunks: ['a\x10', 'b'], pass: 'a\x10b', detached: false },
  { name: 'repeated first key', chunks: ['\x10\x10\x11'], pass: '\x10', detached: true },
];
for (const tc of cases) {
  test(`DetachScanner: ${tc.name}`, () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    let pass = '';
    let detached = false;
    for (const c of tc.chunks) {
      const r = s.push(Buffer.from(c, 'latin1'));
      pass += r.pass.toString('latin1');
      if (r.detached) {
        detached = true;
        break;
      }
    }
    assert.equal(pass, tc.pass);
    assert.equal(detached, tc.detached);
  });
}
