/**
 * Layers on real overlayfs (needs root): whiteouts and opaque directories
 * from layer tars, the same converted back by commit, archives whose layers
 * are shared through symlinks (old `docker save`), and stacks deeper than the
 * mount option limit allows with absolute paths.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { extract } from 'tar-stream';
import { dockerArchive, ociArchive, scratchStore, streamOf, tarOf } from './images-fixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
});

async function store() {
  const s = await scratchStore();
  cleanups.push(s.cleanup);
  return s;
}

async function layerNames(tar: NodeJS.ReadableStream): Promise<string[]> {
  const ex = extract();
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  const names: string[] = [];
  for await (const e of ex) {
    names.push(e.header.name);
    e.resume();
  }
  return names.sort();
}

test('whiteouts and opaque directories hide lower files', async () => {
  const { store: images, dir } = await store();
  const base = await tarOf([
    { name: 'a/' },
    { name: 'a/x', data: 'x' },
    { name: 'a/y', data: 'y' },
    { name: 'f', data: 'f' },
    { name: 'keep', data: 'keep' },
    { name: 'd/' },
    { name: 'd/gone', data: 'g' },
    { name: 'd/stays', data: 's' },
  ]);
  const top = await tarOf([
    { name: '.wh.f' },
    { name: 'a/' },
    { name: 'a/.wh..wh..opq' },
    { name: 'a/z', data: 'z' },
    { name: 'd/' },
    { name: 'd/.wh.gone' },
  ]);
  await images.load(streamOf(await dockerArchive([base, top], ['layered:1'])));
  const c = join(dir, 'c');
  const rootfs = await images.prepareRootfs('layered:1', c);
  try {
    assert.deepEqual((await readdir(rootfs)).sort(), ['a', 'd', 'keep']);
    assert.deepEqual(await readdir(join(rootfs, 'a')), ['z']);
    assert.deepEqual(await readdir(join(rootfs, 'd')), ['stays']);
    // The container recreates /a (overlay makes it opaque) and deletes /keep.
    await rm(join(rootfs, 'a'), { recursive: true });
    await mkdir(join(rootfs, 'a'));
    await writeFile(join(rootfs, 'a', 'new'), 'new');
    await rm(join(rootfs, 'keep'));
    const { Id } = await images.commit(c, { repo: 'layered', tag: '2' });
    const record = images.resolve(Id);
    const layer = record.layers.at(-1);
    assert.ok(layer);
    const names = await layerNames(images.content.openRead(layer.digest));
    assert.ok(names.includes('.wh.keep'), `commit layer has .wh.keep: ${names}`);
    assert.ok(names.includes('a/.wh..wh..opq'), `commit layer marks /a opaque: ${names}`);
    const c2 = join(dir, 'c2');
    const rootfs2 = await images.prepareRootfs('layered:2', c2);
    assert.deepEqual((await readdir(rootfs2)).sort(), ['a', 'd']);
    assert.deepEqual(await readdir(join(rootfs2, 'a')), ['new']);
    await images.releaseRootfs(c2, { remove: true });
  } finally {
    await images.releaseRootfs(c, { remove: true });
  }
});

test('old docker save archives share layers through symlinks', async () => {
  const { store: images } = await store();
  const layer = await tarOf([{ name: 'etc/' }, { name: 'etc/shared', data: 'one' }]);
  const first = await dockerArchive([layer], ['one:1'], ['first']);
  const second = await dockerArchive([layer], ['two:1'], ['second']);
  // Merge the two into one archive whose second image links to the first's layer.
  const entries: { name: string; data?: Buffer; type?: 'symlink'; linkname?: string }[] = [];
  const manifest: unknown[] = [];
  for (const [i, tar] of [first, second].entries()) {
    const ex = extract();
    streamOf(tar).pipe(ex as unknown as NodeJS.WritableStream);
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const ch of e) chunks.push(ch as Buffer);
      const data = Buffer.concat(chunks);
      if (e.header.name === 'manifest.json') {
        const m = JSON.parse(data.toString()) as { Layers: string[] }[];
        if (i === 1 && m[0]) m[0].Layers = ['linked/layer.tar'];
        manifest.push(...m);
      } else if (i === 0 || e.header.name.endsWith('.json')) {
        entries.push({ name: e.header.name, data });
      }
    }
  }
  const firstLayerDir = entries.find((e) => e.name.endsWith('/layer.tar'))?.name.split('/')[0];
  entries.push({ name: 'linked/layer.tar', type: 'symlink', linkname: `../${firstLayerDir}/layer.tar` });
  entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) });
  const { loaded } = await images.load(streamOf(await tarOf(entries)));
  assert.deepEqual(loaded.sort(), ['one:1', 'two:1']);
  assert.deepEqual((await images.inspect('two:1')).Config.Cmd, ['second']);
  assert.equal((await images.snapshots.list()).length, 1);
});

test('a stack of 150 layers mounts despite the one-page option limit', async () => {
  const { store: images, dir } = await store();
  const layers: Buffer[] = [];
  for (let i = 0; i < 150; i++) layers.push(await tarOf([{ name: `f${i}`, data: String(i) }]));
  await images.load(streamOf(await dockerArchive(layers, ['deep:1'])));
  const c = join(dir, 'c');
  try {
    const rootfs = await images.prepareRootfs('deep:1', c);
    assert.equal((await readdir(rootfs)).length, 150);
    assert.equal(await readFile(join(rootfs, 'f149'), 'utf8'), '149');
  } finally {
    await images.releaseRootfs(c, { remove: true });
  }
});

test('an OCI layout with a multi-platform index and gzip layers loads linux/amd64', async () => {
  const { store: images, dir } = await store();
  const layer = await tarOf([{ name: 'hello', data: 'from oci\n' }]);
  const progress: string[] = [];
  const { loaded } = await images.load(
    streamOf(await ociArchive([layer], 'example.com/team/app:2', ['run'])),
    (m) => progress.push(m.stream ?? ''),
  );
  assert.deepEqual(loaded, ['example.com/team/app:2']);
  assert.deepEqual(progress, ['Loaded image: example.com/team/app:2\n']);
  const img = await images.inspect('example.com/team/app:2');
  assert.equal(img.Architecture, 'amd64');
  assert.deepEqual(img.Config.Cmd, ['run']);
  const c = join(dir, 'c');
  try {
    const rootfs = await images.prepareRootfs(img.Id, c);
    assert.equal(await readFile(join(rootfs, 'hello'), 'utf8'), 'from oci\n');
  } finally {
    await images.releaseRootfs(c, { remove: true });
  }
  // Saved and loaded again (gzip layers kept as they are), the id stays.
  const again = await store();
  const saved = await images.save(['example.com/team/app:2']);
  await again.store.load(saved);
  assert.equal((await again.store.inspect('example.com/team/app:2')).Id, img.Id);
});

test('a volatile rootfs mounts again after release, and unmounts without syncing', async () => {
  const { store: images, dir } = await store();
  await images.load(streamOf(await dockerArchive([await tarOf([{ name: 'f', data: 'f' }])], ['small:1'])));
  const times: Record<string, number[]> = { normal: [], volatile: [] };
  for (let i = 0; i < 6; i++) {
    const kind = i % 2 ? 'volatile' : 'normal';
    const c = join(dir, `c${i}`);
    const rootfs = await images.prepareRootfs('small:1', c, { volatile: kind === 'volatile' });
    await writeFile(join(rootfs, 'written'), 'x'.repeat(4096));
    const t0 = performance.now();
    await images.releaseRootfs(c);
    times[kind]?.push(performance.now() - t0);
    // Mounting the same directories again works (the volatile marker is cleared) and keeps the data.
    const again = await images.prepareRootfs('small:1', c, { volatile: kind === 'volatile' });
    assert.equal((await readFile(join(again, 'written'), 'utf8')).length, 4096);
    await images.releaseRootfs(c, { remove: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]?.toFixed(2);
  console.log(
    `# releaseRootfs after a write: normal ${median(times.normal ?? [])} ms, volatile ${median(times.volatile ?? [])} ms`,
  );
});
