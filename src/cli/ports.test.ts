import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPublish, type PublishedPorts, splitPortSpec } from './ports.ts';

const cases: { spec: string; want: PublishedPorts }[] = [
  { spec: '80', want: { exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } } },
  {
    spec: '8080:80',
    want: { exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } },
  },
  {
    spec: '18081:81/tcp',
    want: { exposed: { '81/tcp': {} }, bindings: { '81/tcp': [{ HostIp: '', HostPort: '18081' }] } },
  },
  {
    spec: '127.0.0.1:18080:80',
    want: { exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] } },
  },
  {
    spec: '127.0.0.1::53/udp',
    want: { exposed: { '53/udp': {} }, bindings: { '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  },
  {
    spec: '[::1]:8080:80',
    want: { exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] } },
  },
  {
    spec: '8000-8001:80-81',
    want: {
      exposed: { '80/tcp': {}, '81/tcp': {} },
      bindings: {
        '80/tcp': [{ HostIp: '', HostPort: '8000' }],
        '81/tcp': [{ HostIp: '', HostPort: '8001' }],
      },
    },
  },
  {
    spec: '8000-8010:80',
    want: { exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }] } },
  },
];

for (const tc of cases) {
  test(`publish ${tc.spec}`, () => {
    assert.deepEqual(addPublish({ exposed: {}, bindings: {} }, tc.spec), tc.want);
  });
}

test('the same container port published twice keeps both bindings', () => {
  const p = addPublish(addPublish({ exposed: {}, bindings: {} }, '127.0.0.1:1:80'), '2:80');
  assert.deepEqual(p.bindings['80/tcp'], [
    { HostIp: '127.0.0.1', HostPort: '1' },
    { HostIp: '', HostPort: '2' },
  ]);
});

const bad: [string, RegExp][] = [
  ['', /no container port/],
  ['80/icmp', /invalid protocol "icmp"/],
  ['0', /invalid port "0"/],
  ['70000', /invalid port "70000"/],
  ['90-80', /invalid port "90-80"/],
  ['8000-8002:80-81', /host and container ranges must be the same size/],
  ['a:b:c:d', /invalid port spec/],
];
for (const [spec, message] of bad) {
  test(`publish rejects ${JSON.stringify(spec)}`, () => {
    assert.throws(() => addPublish({ exposed: {}, bindings: {} }, spec), message);
  });
}

test('splitPortSpec', () => {
  assert.deepEqual(splitPortSpec('1.2.3.4:80:8080/udp'), {
    ip: '1.2.3.4',
    host: '80',
    container: '8080',
    proto: 'udp',
  });
});
