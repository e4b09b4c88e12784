import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import { deviceFromPath, hostDevices } from './devices.ts';

test('deviceFromPath reads /dev/null as c 1:3', async () => {
  const d = await deviceFromPath('/dev/null', '/dev/mynull');
  assert.deepEqual(
    { type: d.type, path: d.path, major: d.major, minor: d.minor },
    {
      type: 'c',
      path: '/dev/mynull',
      major: 1,
      minor: 3,
    },
  );
});

test('deviceFromPath refuses what is not a device', async () => {
  await assert.rejects(deviceFromPath('/etc/hostname'), InvalidError);
  await assert.rejects(deviceFromPath('/no/such/dev'), InvalidError);
});

test('hostDevices lists /dev/zero but not the pty nodes', async () => {
  const devs = await hostDevices();
  assert.ok(devs.some((d) => d.path === '/dev/zero' && d.major === 1 && d.minor === 5));
  assert.ok(!devs.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/ptmx'));
});
