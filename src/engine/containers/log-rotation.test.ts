import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import { logLimits, rotatedFiles, rotateIfNeeded } from './log-rotation.ts';

const dir = await mkdtemp(join(tmpdir(), 'drv-rot-'));
after(() => rm(dir, { recursive: true, force: true }));

const cases: {
  name: string;
  config: Parameters<typeof logLimits>[0];
  want: { maxSize: number; maxFiles: number };
}[] = [
  { name: 'defaults', config: undefined, want: { maxSize: 100 * 1024 * 1024, maxFiles: 2 } },
  {
    name: 'json-file options',
    config: { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } },
    want: { maxSize: 10240, maxFiles: 3 },
  },
  {
    name: 'size with unit b',
    config: { Config: { 'max-size': '2mb' } },
    want: { maxSize: 2 * 1024 * 1024, maxFiles: 2 },
  },
];
for (const tc of cases) test(`limits: ${tc.name}`, () => assert.deepEqual(logLimits(tc.config), tc.want));

test('bad options are refused', () => {
  assert.throws(() => logLimits({ Type: 'syslog' }), InvalidError);
  assert.throws(() => logLimits({ Config: { 'max-size': 'ten' } }), InvalidError);
  assert.throws(() => logLimits({ Config: { 'max-file': '0' } }), InvalidError);
});

test('rotation shifts files and reopens; files beyond max-file are dropped', async () => {
  const log = join(dir, 'ctr.log');
  const limits = { maxSize: 4, maxFiles: 3 };
  let reopened = 0;
  const reopen = async () => {
    reopened++;
    await writeFile(log, '');
  };
  for (const content of ['aaaa', 'bbbb', 'cccc']) {
    await writeFile(log, content);
    assert.equal(await rotateIfNeeded(log, limits, reopen), true);
  }
  assert.equal(reopened, 3);
  assert.deepEqual(await rotatedFiles(log, limits), [`${log}.2`, `${log}.1`]);
  assert.equal(await readFile(`${log}.1`, 'utf8'), 'cccc');
  assert.equal(await readFile(`${log}.2`, 'utf8'), 'bbbb');
  await writeFile(log, 'x');
  assert.equal(await rotateIfNeeded(log, limits, reopen), false);
});
