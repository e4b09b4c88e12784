import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { InvalidError, NotFoundError } from '../../lib/errors.ts';
import { ContentStore, digestHex, sha256 } from './content-store.ts';

let dir = '';
let store: ContentStore;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drv-images-cs-'));
  store = new ContentStore(dir);
  await store.init();
});
after(() => rm(dir, { recursive: true, force: true }));

test('put stores bytes under their digest, idempotently', async () => {
  const d = await store.put('hello');
  assert.equal(d, sha256('hello'));
  assert.equal(await store.put('hello'), d);
  assert.equal((await store.read(d)).toString(), 'hello');
  assert.ok((await store.list()).includes(d));
});

test('ingest streams, hashes and verifies', async () => {
  const got = await store.ingest(Readable.from([Buffer.from('a'), Buffer.from('bc')]));
  assert.deepEqual(got, { digest: sha256('abc'), size: 3 });
  await assert.rejects(store.ingest(Readable.from([Buffer.from('x')]), sha256('y')), InvalidError);
  assert.equal(await store.has(sha256('x')), false);
  assert.deepEqual(await readdir(store.ingestDir), [], 'no temporary left behind');
});

test('missing blobs and bad digests are clear errors', async () => {
  await assert.rejects(store.read(sha256('never')), NotFoundError);
  assert.throws(() => digestHex('md5:abc'), InvalidError);
  assert.equal(await store.delete(sha256('never')), 0);
});
