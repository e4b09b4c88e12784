import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConflictError, InvalidError, NotFoundError } from '../../lib/errors.ts';
import { VolumeStore } from './volumes.ts';

const root = await mkdtemp(join(tmpdir(), 'drv-vol-'));
after(() => rm(root, { recursive: true, force: true }));
const inUse = new Map<string, string[]>();
const store = new VolumeStore({ root, usedBy: (n) => inUse.get(n) ?? [] });
await store.init();

test('create, inspect, list with filters, idempotent create', async () => {
  const v = await store.create({ Name: 'data', Labels: { app: 'web' } });
  assert.equal(v.Mountpoint, join(root, 'data', '_data'));
  assert.deepEqual((await store.create({ Name: 'data' })).Labels, { app: 'web' });
  await store.create({ Name: 'other' });
  assert.deepEqual(
    (await store.list({ label: ['app=web'] })).map((x) => x.Name),
    ['data'],
  );
});

test('bad names and unknown volumes get clear errors', async () => {
  await assert.rejects(store.create({ Name: 'bad/name' }), InvalidError);
  await assert.rejects(store.inspect('nope'), NotFoundError);
});

test('remove is refused while in use unless forced; prune keeps named volumes', async () => {
  await store.create({ Name: 'busy' });
  inUse.set('busy', ['c1']);
  await assert.rejects(store.remove('busy'), ConflictError);
  inUse.delete('busy');
  await store.remove('busy');
  const anon = await store.create({}, true);
  await writeFile(join(anon.Mountpoint, 'f'), 'hello');
  const report = await store.prune();
  assert.deepEqual(report.deleted, [anon.Name]);
  assert.equal(report.spaceReclaimed, 5);
  assert.ok((await store.list()).some((x) => x.Name === 'data'));
});
