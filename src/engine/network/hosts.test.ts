import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderHosts } from './hosts.ts';

test('hosts file: localhost, extra hosts, own hostname, peers with aliases, no duplicates', () => {
  const text = renderHosts({
    hostname: 'web1',
    selfIps: ['10.89.0.2'],
    extraHosts: ['db.local:10.0.0.9'],
    peers: [
      { ip: '10.89.0.3', names: ['db', 'database', 'abc123'] },
      { ip: '10.89.0.3', names: ['db', 'database', 'abc123'] },
      { ip: '10.89.0.4', names: [''] },
    ],
  });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], '127.0.0.1\tlocalhost');
  assert.ok(lines.includes('10.0.0.9\tdb.local'));
  assert.ok(lines.includes('10.89.0.2\tweb1'));
  assert.equal(lines.filter((l) => l.startsWith('10.89.0.3\tdb database abc123')).length, 1);
  assert.ok(!text.includes('10.89.0.4'));
});
