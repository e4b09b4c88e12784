import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sha256 } from './content-store.ts';
import { diffUpper, isRuntimePath, rootfsPaths } from './rootfs.ts';
import { Snapshots } from './snapshots.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function setup(upperFiles: string[]) {
  const root = await mkdtemp(join(tmpdir(), 'drv-images-rootfs-'));
  dirs.push(root);
  const snapshots = new Snapshots(root);
  const chain = sha256('layer');
  await mkdir(join(snapshots.path(chain), 'etc'), { recursive: true });
  await writeFile(join(snapshots.path(chain), 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  const container = join(root, 'c');
  const p = rootfsPaths(container);
  await mkdir(p.upper, { recursive: true });
  await writeFile(p.record, JSON.stringify({ imageId: sha256('config'), chainIds: [chain] }));
  for (const f of upperFiles) {
    await mkdir(join(p.upper, f, '..'), { recursive: true });
    await writeFile(join(p.upper, f), 'x');
  }
  return { snapshots, container };
}

const cases: { name: string; upper: string[]; want: { Path: string; Kind: 0 | 1 | 2 }[] }[] = [
  { name: 'nothing changed', upper: [], want: [] },
  { name: 'only runtime mount points', upper: ['etc/resolv.conf', 'etc/hosts', 'proc/x'], want: [] },
  {
    name: 'a modified and an added file',
    upper: ['etc/passwd', 'etc/resolv.conf', 'app/bin/tool'],
    want: [
      { Path: '/app', Kind: 1 },
      { Path: '/app/bin', Kind: 1 },
      { Path: '/app/bin/tool', Kind: 1 },
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/passwd', Kind: 0 },
    ],
  },
];
for (const tc of cases) {
  test(`diff: ${tc.name}`, async () => {
    const { snapshots, container } = await setup(tc.upper);
    assert.deepEqual(await diffUpper(snapshots, container), tc.want);
  });
}

test('runtime paths', () => {
  assert.equal(isRuntimePath('etc/hosts'), true);
  assert.equal(isRuntimePath('dev/shm/x'), true);
  assert.equal(isRuntimePath('etc/hostsfile'), false);
  assert.equal(isRuntimePath('device'), false);
});
