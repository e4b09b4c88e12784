import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renderResolvConf } from './etc-files.ts';

const dir = await mkdtemp(join(tmpdir(), 'drv-etc-'));
after(() => rm(dir, { recursive: true, force: true }));

const cases = [
  {
    name: 'host resolvers kept',
    host: 'nameserver 10.1.1.1\nsearch corp\n',
    opts: {},
    want: 'nameserver 10.1.1.1\nsearch corp\n',
  },
  {
    name: 'loopback resolvers dropped',
    host: 'nameserver 127.0.0.53\n',
    opts: {},
    want: 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n',
  },
  {
    name: 'loopback kept on host network',
    host: 'nameserver 127.0.0.53\n',
    opts: { hostNetwork: true },
    want: 'nameserver 127.0.0.53\n',
  },
  {
    name: '--dns wins',
    host: 'nameserver 10.1.1.1\n',
    opts: { dns: ['1.1.1.1'], options: ['ndots:2'] },
    want: 'nameserver 1.1.1.1\noptions ndots:2\n',
  },
];
for (const tc of cases) {
  test(`resolv.conf: ${tc.name}`, async () => {
    const path = join(dir, `${tc.name}.conf`);
    await writeFile(path, tc.host);
    assert.equal(await renderResolvConf({ hostNetwork: false, ...tc.opts, hostResolvConf: path }), tc.want);
  });
}
