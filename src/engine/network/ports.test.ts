import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePublishSpecs, wantedPorts } from './ports.ts';

const cases = [
  { spec: '80', want: { '80/tcp': [{ HostIp: '', HostPort: '' }] } },
  { spec: '8080:80', want: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } },
  { spec: '127.0.0.1:8080:80/udp', want: { '80/udp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] } },
  { spec: '127.0.0.1::80', want: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  {
    spec: '8000-8001:80-81',
    want: { '80/tcp': [{ HostIp: '', HostPort: '8000' }], '81/tcp': [{ HostIp: '', HostPort: '8001' }] },
  },
  { spec: '8000-8010:80', want: { '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }] } },
];
for (const tc of cases) {
  test(`parsePublishSpecs ${tc.spec}`, () => {
    const got = parsePublishSpecs([tc.spec]);
    assert.deepEqual(got.portBindings, tc.want);
    assert.deepEqual(Object.keys(got.exposedPorts), Object.keys(tc.want));
  });
}

for (const bad of ['0', '70000', '80/icmp', '1:2:3:4', '8000-8002:80-81', 'a:80', '90-80']) {
  test(`parsePublishSpecs refuses ${bad}`, () => {
    assert.throws(() => parsePublishSpecs([bad]), /^InvalidError: invalid/);
  });
}

test('wantedPorts adds exposed ports with -P only when not bound already', () => {
  const got = wantedPorts({
    portBindings: { '80/tcp': [{ HostPort: '8080' }] },
    exposedPorts: { '80/tcp': {}, '53/udp': {} },
    publishAll: true,
  });
  assert.deepEqual(got, [
    { proto: 'tcp', containerPort: 80, hostIp: '', hostPort: '8080' },
    { proto: 'udp', containerPort: 53, hostIp: '', hostPort: '' },
  ]);
});
