import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { describeStoreConformance } from '../conformance.ts';
import { SqliteStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'drv-storage-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeStoreConformance(
  'sqlite',
  async (options) => new SqliteStore({ path: join(dir, `db-${n++}`, 'state.db'), ...options }),
);
