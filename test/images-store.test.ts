/**
 * The image store against the real busybox archive, real GNU tar and real
 * overlayfs mounts (needs root). Every test uses its own scratch store and
 * unmounts what it mounted, even on failure.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createGzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { ProgressMessage } from '../src/engine/types.ts';
import { ConflictError, InvalidError, NotFoundError } from '../src/lib/errors.ts';
import {
  bufferOf,
  type Entry,
  ensureBusyboxArchive,
  namesIn,
  scratchStore,
  streamOf,
  tarOf,
} from './images-fixtures.ts';

let archive = '';
const cleanups: (() => Promise<void>)[] = [];
before(() => {
  archive = ensureBusyboxArchive();
});
after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
});

async function storeWithBusybox(inUse?: Map<string, string[]>) {
  const s = await scratchStore(inUse);
  cleanups.push(s.cleanup);
  const messages: ProgressMessage[] = [];
  const t0 = performance.now();
  const { loaded } = await s.store.load(createReadStream(archive), (m) => messages.push(m));
  return { ...s, loaded, messages, loadMs: performance.now() - t0 };
}

async function tarNames(r: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const ex = extract();
  const names = new Map<string, string>();
  (r as NodeJS.ReadableStream).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    names.set(e.header.name.replace(/^\.\//, ''), e.header.type);
    e.resume();
  }
  return names;
}

test('load the busybox archive, inspect, list, history', async () => {
  const { store, loaded, messages, loadMs } = await storeWithBusybox();
  console.log(`# load busybox archive: ${loadMs.toFixed(1)} ms`);
  assert.deepEqual(loaded.sort(), ['busybox:1.35', 'busybox:latest']);
  assert.ok(messages.some((m) => m.stream === 'Loaded image: busybox:latest\n'));
  const img = await store.inspect('busybox');
  assert.deepEqual(img.RepoTags.sort(), ['busybox:1.35', 'busybox:latest']);
  assert.deepEqual(img.Config.Cmd, ['sh']);
  assert.equal(img.Os, 'linux');
  assert.equal(img.RootFS.Layers.length, 1);
  assert.ok(img.Size > 1_000_000);
  assert.equal((await store.inspect(img.Id.slice(7, 19))).Id, img.Id);
  assert.equal((await store.inspect('docker.io/library/busybox:1.35')).Id, img.Id);
  const list = await store.list();
  assert.equal(list.length, 1);
  assert.equal(list[0]?.Id, img.Id);
  const history = await store.history('busybox');
  assert.equal(history[0]?.Id, img.Id);
  assert.equal(history[0]?.CreatedBy, 'CMD ["sh"]');
  await assert.rejects(
    store.inspect('nosuch'),
    (e: Error) => e instanceof NotFoundError && e.message === 'No such image: nosuch',
  );
});

test('tag moves a name; save then load gives the same ids', async () => {
  const { store } = await storeWithBusybox();
  const id = (await store.inspect('busybox')).Id;
  await store.tag('busybox', 'localhost:5000/team/app', 'v1');
  assert.ok(
    (await store.inspect('localhost:5000/team/app:v1')).RepoTags.includes('localhost:5000/team/app:v1'),
  );
  const saved = await bufferOf(await store.save(['busybox:latest', 'localhost:5000/team/app:v1']));
  const names = await tarNames(streamOf(saved));
  for (const n of [
    'manifest.json',
    'index.json',
    'oci-layout',
    'repositories',
    `blobs/sha256/${id.slice(7)}`,
  ]) {
    assert.ok(names.has(n), `saved archive has ${n}`);
  }
  const other = await scratchStore();
  cleanups.push(other.cleanup);
  const { loaded } = await other.store.load(streamOf(saved));
  assert.deepEqual(loaded.sort(), ['busybox:latest', 'localhost:5000/team/app:v1']);
  assert.equal((await other.store.inspect('localhost:5000/team/app:v1')).Id, id);
  // The same archive read as an OCI layout only (no manifest.json).
  const oci = await scratchStore();
  cleanups.push(oci.cleanup);
  const ociOnly = await rewriteWithout(saved, ['manifest.json', 'repositories']);
  await oci.store.load(streamOf(ociOnly));
  assert.equal((await oci.store.inspect('busybox')).Id, id);
});

/** The same archive without some of its members (e.g. an OCI layout only). */
async function rewriteWithout(tar: Buffer, drop: string[]): Promise<Buffer> {
  const ex = extract();
  const entries: Entry[] = [];
  streamOf(tar).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const data = Buffer.concat(chunks);
    if (!drop.includes(e.header.name)) entries.push({ name: e.header.name, data });
  }
  return tarOf(entries);
}

test('import a gzipped rootfs tar with changes', async () => {
  const { store, cleanup } = await scratchStore();
  cleanups.push(cleanup);
  const rootfs = await tarOf([
    { name: 'app/' },
    { name: 'app/hello.txt', data: 'hello\n' },
    { name: 'app/run', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
  ]);
  const gz = await bufferOf(streamOf(rootfs).pipe(createGzip()));
  const progress: ProgressMessage[] = [];
  const { Id } = await store.import(streamOf(gz), {
    repo: 'imported',
    tag: 'v1',
    changes: [
      'CMD ["sh"]',
      'ENV A=1',
      'WORKDIR /app',
      'ENTRYPOINT ["/app/run"]',
      'EXPOSE 8080',
      'LABEL k=v',
      'USER nobody',
      'VOLUME /data',
    ],
    onProgress: (m) => progress.push(m),
  });
  const img = await store.inspect('imported:v1');
  assert.equal(img.Id, Id);
  assert.deepEqual(progress, [{ status: Id }]);
  assert.deepEqual(img.Config, {
    Cmd: ['sh'],
    Env: ['A=1'],
    WorkingDir: '/app',
    Entrypoint: ['/app/run'],
    ExposedPorts: { '8080/tcp': {} },
    Labels: { k: 'v' },
    User: 'nobody',
    Volumes: { '/data': {} },
  });
  assert.equal((await store.history(Id))[0]?.Comment, 'Imported from -');
  // The stored layer is the uncompressed tar: its digest is the diff id.
  assert.equal(
    img.RootFS.Layers[0],
    `sha256:${(await import('node:crypto')).createHash('sha256').update(rootfs).digest('hex')}`,
  );
});

test('overlay rootfs: read through it, diff, export, commit', async () => {
  const { store, dir } = await storeWithBusybox();
  const c1 = join(dir, 'c1');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await store.prepareRootfs('busybox', c1);
    times.push(performance.now() - t0);
    if (i < 4) await store.releaseRootfs(c1);
  }
  times.sort((a, b) => a - b);
  console.log(`# prepareRootfs (mount) median ${times[2]?.toFixed(2)} ms, min ${times[0]?.toFixed(2)} ms`);
  try {
    const rootfs = join(c1, 'rootfs');
    assert.match(await readFile(join(rootfs, 'etc/passwd'), 'utf8'), /^root:x:0:0/);
    await writeFile(join(rootfs, 'etc/motd'), 'welcome\n');
    await rm(join(rootfs, 'etc/group'));
    // What a runtime creates as a bind-mount target is not a change (Docker's init layer).
    await writeFile(join(rootfs, 'etc/hostname'), '');
    const changes = await store.diffRootfs(c1);
    assert.deepEqual(changes, [
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/group', Kind: 2 },
      { Path: '/etc/motd', Kind: 1 },
    ]);
    const exported = await tarNames(await store.exportRootfs(c1));
    assert.ok(exported.has('etc/motd') && exported.has('bin/sh') && !exported.has('etc/group'));
    const { Id } = await store.commit(c1, {
      repo: 'committed',
      tag: 'v1',
      comment: 'c',
      author: 'me',
      changes: ['CMD ["cat", "/etc/motd"]'],
    });
    const img = await store.inspect('committed:v1');
    assert.equal(img.Id, Id);
    assert.equal(img.RootFS.Layers.length, 2);
    assert.equal(img.Parent, (await store.inspect('busybox')).Id);
    assert.deepEqual(img.Config.Cmd, ['cat', '/etc/motd']);
    const c2 = join(dir, 'c2');
    const rootfs2 = await store.prepareRootfs('committed:v1', c2);
    assert.equal(await readFile(join(rootfs2, 'etc/motd'), 'utf8'), 'welcome\n');
    await assert.rejects(readFile(join(rootfs2, 'etc/group')), { code: 'ENOENT' });
    await assert.rejects(readFile(join(rootfs2, 'etc/hostname')), { code: 'ENOENT' });
    await store.releaseRootfs(c2, { remove: true });
    assert.deepEqual(await namesIn(c2), []);
  } finally {
    await store.releaseRootfs(c1);
  }
  // Export of an unmounted rootfs mounts it for the duration.
  const again = await tarNames(await store.exportRootfs(c1));
  assert.ok(again.has('etc/motd'));
});

test('remove: untag, refuse while in use, force leaves it dangling, prune and gc clear everything', async () => {
  const inUse = new Map<string, string[]>();
  const { store } = await storeWithBusybox(inUse);
  const id = (await store.inspect('busybox')).Id;
  const container = 'c0ffee'.padEnd(64, '0');
  inUse.set(id, [container]);
  assert.deepEqual(await store.remove('busybox:1.35'), [{ Untagged: 'busybox:1.35' }]);
  await assert.rejects(
    store.remove('busybox'),
    (e: Error) =>
      e instanceof ConflictError &&
      e.message ===
        `conflict: unable to remove repository reference "busybox" (must force) - container ${container.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`,
  );
  await assert.rejects(store.remove(id), ConflictError);
  assert.deepEqual(await store.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
  const dangling = await store.list({ filters: { dangling: ['true'] } });
  assert.deepEqual(
    dangling.map((i) => i.Id),
    [id],
  );
  assert.deepEqual((await store.prune()).deleted, [], 'prune keeps images in use');
  inUse.clear();
  const report = await store.prune();
  assert.deepEqual(report.deleted, [id]);
  assert.ok(report.spaceReclaimed > 1_000_000);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await store.content.list(), []);
  assert.deepEqual(await store.snapshots.list(), []);
  assert.deepEqual(await namesIn(store.snapshots.linkDir), []);
  await assert.rejects(store.remove('busybox'), NotFoundError);
});

test('remove by name deletes the image with its last name', async () => {
  const { store } = await storeWithBusybox();
  const id = (await store.inspect('busybox')).Id;
  await store.remove('busybox:1.35');
  assert.deepEqual(await store.remove('busybox:latest'), [{ Untagged: 'busybox:latest' }, { Deleted: id }]);
  assert.deepEqual(await store.content.list(), []);
  assert.deepEqual(await store.snapshots.list(), []);
});

test('a tar that is not an image archive gets a clear error and leaves nothing behind', async () => {
  const { store, loaded } = await storeWithBusybox();
  assert.equal(loaded.length, 2);
  const blobsBefore = (await store.content.list()).sort();
  const notImage = await tarOf([{ name: 'hello.txt', data: 'hi\n' }]);
  await assert.rejects(
    store.load(streamOf(notImage)),
    (e: Error) => e instanceof InvalidError && /not an image archive/.test(e.message),
  );
  await assert.rejects(
    store.load(streamOf(Buffer.from('definitely not a tar file'.repeat(40)))),
    InvalidError,
  );
  // A Docker archive whose layer is not what its config says.
  const bad = await tarOf([
    { name: 'layer.tar', data: await tarOf([{ name: 'x', data: 'x' }]) },
    {
      name: 'config.json',
      data: JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] },
      }),
    },
    {
      name: 'manifest.json',
      data: JSON.stringify([{ Config: 'config.json', RepoTags: ['bad:1'], Layers: ['layer.tar'] }]),
    },
  ]);
  await assert.rejects(store.load(streamOf(bad)), InvalidError);
  await assert.rejects(store.import(streamOf(Buffer.from('garbage'.repeat(100)))), InvalidError);
  await assert.rejects(store.import(streamOf(Buffer.alloc(0))), InvalidError);
  assert.deepEqual((await store.content.list()).sort(), blobsBefore);
  assert.equal((await store.snapshots.list()).length, 1);
  assert.deepEqual(await namesIn(store.content.ingestDir), []);
  assert.deepEqual((await store.list()).length, 1);
});

test('concurrent loads of one archive share the snapshot, and gc meanwhile removes nothing needed', async () => {
  const { store, cleanup } = await scratchStore();
  cleanups.push(cleanup);
  const results = await Promise.all([
    store.load(createReadStream(archive)),
    store.load(createReadStream(archive)),
    store.gc(),
    store.load(createReadStream(archive)),
  ]);
  assert.deepEqual(results[0], results[1]);
  assert.equal((await store.snapshots.list()).length, 1);
  const img = await store.inspect('busybox');
  const c = join(dir(store.root), 'c');
  const rootfs = await store.prepareRootfs(img.Id, c);
  try {
    assert.match(await readFile(join(rootfs, 'etc/group'), 'utf8'), /^root:x:0:/);
  } finally {
    await store.releaseRootfs(c, { remove: true });
  }
  assert.equal((await store.gc()).blobs, 0);
});

function dir(storeRoot: string): string {
  return join(storeRoot, '..');
}
