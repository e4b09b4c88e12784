/**
 * Archives written by another tool load here, and ours load there: podman
 * (vfs storage in a temporary root, so nothing is shared with the host's)
 * saves in docker-archive and oci-archive formats. Skipped without podman.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { ensureBusyboxArchive, scratchStore } from './images-fixtures.ts';

const hasPodman = ['/usr/bin/podman', '/usr/local/bin/podman'].some((p) => existsSync(p));
let tmp = '';
const cleanups: (() => Promise<void>)[] = [];

function podman(...args: string[]): string {
  const base = ['--root', join(tmp, 'root'), '--runroot', join(tmp, 'run'), '--storage-driver', 'vfs'];
  return execFileSync('podman', [...base, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  if (!hasPodman) return;
  tmp = await mkdtemp('/tmp/drv-images-podman-');
  podman('load', '-q', '-i', ensureBusyboxArchive());
});
after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('podman docker-archive and oci-archive saves load with the same content', {
  skip: !hasPodman,
}, async () => {
  const s = await scratchStore();
  cleanups.push(s.cleanup);
  await s.store.load(createReadStream(ensureBusyboxArchive()));
  const ours = (await s.store.inspect('busybox')).Id;

  const dockerTar = join(tmp, 'docker.tar');
  podman('save', '-q', '--format', 'docker-archive', '-o', dockerTar, 'busybox:latest');
  const d = await scratchStore();
  cleanups.push(d.cleanup);
  const fromDocker = await d.store.load(createReadStream(dockerTar));
  assert.deepEqual(fromDocker.loaded, ['localhost/busybox:latest']);
  assert.equal(
    (await d.store.inspect('localhost/busybox')).Id,
    ours,
    'docker-archive keeps the config, so the id',
  );

  const ociTar = join(tmp, 'oci.tar');
  podman('save', '-q', '--format', 'oci-archive', '-o', ociTar, 'busybox:latest');
  const o = await scratchStore();
  cleanups.push(o.cleanup);
  const fromOci = await o.store.load(createReadStream(ociTar));
  assert.deepEqual(fromOci.loaded, ['localhost/busybox:latest']);
  const img = await o.store.inspect('localhost/busybox:latest');
  assert.deepEqual(img.Config.Cmd, ['sh']);
  const rootfs = await o.store.prepareRootfs(img.Id, join(o.dir, 'c'));
  try {
    assert.ok((await stat(join(rootfs, 'bin', 'busybox'))).size > 1_000_000);
  } finally {
    await o.store.releaseRootfs(join(o.dir, 'c'), { remove: true });
  }
});

test('podman loads what we save, a committed multi-layer image included', { skip: !hasPodman }, async () => {
  const s = await scratchStore();
  cleanups.push(s.cleanup);
  await s.store.load(createReadStream(ensureBusyboxArchive()));
  const c = join(s.dir, 'c');
  const rootfs = await s.store.prepareRootfs('busybox', c);
  const { writeFile, rm: remove } = await import('node:fs/promises');
  await writeFile(join(rootfs, 'etc', 'motd'), 'hi\n');
  await remove(join(rootfs, 'etc', 'group'));
  await s.store.releaseRootfs(c);
  const { Id } = await s.store.commit(c, { repo: 'drv-images-interop', tag: 'v1' });
  const out = join(tmp, 'ours.tar');
  await pipeline(await s.store.save(['drv-images-interop:v1']), createWriteStream(out));
  podman('load', '-q', '-i', out);
  const id = podman('image', 'inspect', '--format', '{{.Id}}', 'drv-images-interop:v1').trim();
  assert.equal(`sha256:${id.replace(/^sha256:/, '')}`, Id);
});
