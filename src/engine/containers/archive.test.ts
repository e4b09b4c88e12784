import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { pack } from 'tar-stream';
import { extractIntoRoot, resolveInRoot, statInRoot } from './archive.ts';

const base = await mkdtemp(join(tmpdir(), 'drv-archive-'));
const root = join(base, 'rootfs');
const outside = join(base, 'outside');
after(() => rm(base, { recursive: true, force: true }));
await mkdir(join(root, 'etc'), { recursive: true });
await mkdir(outside);
await symlink('/etc', join(root, 'abs-link'));
await symlink('../../../../outside', join(root, 'escape'));

const cases = [
  { name: 'plain path', path: '/etc/hosts', want: join(root, 'etc/hosts') },
  { name: 'absolute symlink stays in root', path: '/abs-link/passwd', want: join(root, 'etc/passwd') },
  { name: 'dot-dot stops at root', path: '/../../etc', want: join(root, 'etc') },
  { name: 'relative symlink cannot escape', path: '/escape/x', want: join(root, 'outside/x') },
];
for (const tc of cases)
  test(`resolve: ${tc.name}`, async () => assert.equal(await resolveInRoot(root, tc.path), tc.want));

test('stat reports Go file modes', async () => {
  const st = await statInRoot(join(root, 'etc'), '/etc');
  assert.equal(st.name, 'etc');
  assert.ok(st.mode >= 2 ** 31, 'directory bit set');
});

test('extraction cannot be steered outside the root', async () => {
  const p = pack();
  p.entry({ name: 'escape', type: 'symlink', linkname: '/' });
  p.entry({ name: 'escape/pwned', type: 'file' }, 'x');
  p.entry({ name: '../../evil', type: 'file' }, 'y');
  p.entry({ name: 'dir/ok.txt', type: 'file', mode: 0o600 }, 'hello');
  p.finalize();
  await extractIntoRoot(root, '/', Readable.from(p));
  assert.equal(await readFile(join(root, 'dir/ok.txt'), 'utf8'), 'hello');
  assert.equal(await readFile(join(root, 'pwned'), 'utf8'), 'x');
  assert.equal(await readFile(join(root, 'evil'), 'utf8'), 'y');
  await assert.rejects(readFile(join(base, 'evil')));
  await writeFile(join(root, 'marker'), '');
});
