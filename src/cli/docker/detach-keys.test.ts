import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detachFilter, parseDetachKeys } from './detach-keys.ts';

test('parseDetachKeys', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-x,y')], [24, 121]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-_')], [0, 31]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /invalid detach key "ctrl-1"/);
});

async function filter(chunks: string[]): Promise<{ out: string; detached: number }> {
  let detached = 0;
  const f = detachFilter(Buffer.from([16, 17]), () => detached++);
  let out = '';
  f.on('data', (d: Buffer) => (out += d.toString('latin1')));
  for (const c of chunks) f.write(Buffer.from(c, 'latin1'));
  f.end();
  await new Promise((resolve) => f.on('end', resolve));
  return { out, detached };
}

const cases: { name: string; chunks: string[]; out: string; detached: number }[] = [
  { name: 'plain input passes', chunks: ['ls\r'], out: 'ls\r', detached: 0 },
  { name: 'the sequence detaches and is swallowed', chunks: ['ab\x10\x11cd'], out: 'abcd', detached: 1 },
  { name: 'split across chunks', chunks: ['a\x10', '\x11'], out: 'a', detached: 1 },
  { name: 'a broken prefix is released', chunks: ['\x10x'], out: '\x10x', detached: 0 },
  { name: 'a repeated first key restarts the match', chunks: ['\x10\x10\x11'], out: '\x10', detached: 1 },
];
for (const tc of cases) {
  test(`detachFilter: ${tc.name}`, async () => {
    assert.deepEqual(await filter(tc.chunks), { out: tc.out, detached: tc.detached });
  });
}
