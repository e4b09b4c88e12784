import assert from 'node:assert/strict';
import type os from 'node:os';
import test from 'node:test';
import { defaultAdvertiseAddress, defaultRouteInterface, listenAddresses } from './advertise.ts';

const routes = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
docker0\tAC110000\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
`;
const v4 = (address: string, internal = false) =>
  ({ address, family: 'IPv4', internal }) as os.NetworkInterfaceInfo;
const ifaces = {
  lo: [v4('127.0.0.1', true)],
  docker0: [v4('172.17.0.1')],
  eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false } as os.NetworkInterfaceInfo, v4('192.0.2.2')],
};

test('advertise: the default route with the lowest metric names the interface', () => {
  assert.equal(defaultRouteInterface(routes), 'eth0');
  assert.equal(defaultRouteInterface(routes.split('\n').slice(0, 2).join('\n')), undefined);
});

const cases: {
  name: string;
  route: string | null;
  ifaces: typeof ifaces | { lo: os.NetworkInterfaceInfo[] };
  want: string;
}[] = [
  { name: 'the default-route interface IPv4', route: 'eth0', ifaces, want: '192.0.2.2' },
  { name: 'no default route: the first non-loopback IPv4', route: null, ifaces, want: '172.17.0.1' },
  { name: 'no network: loopback', route: null, ifaces: { lo: [v4('127.0.0.1', true)] }, want: '127.0.0.1' },
];
for (const tc of cases)
  test(`advertise: ${tc.name}`, () => assert.equal(defaultAdvertiseAddress(tc.ifaces, tc.route), tc.want));

test('advertise: listen also on the advertise address unless it is covered', () => {
  assert.deepEqual(listenAddresses('127.0.0.1', '192.0.2.2'), ['127.0.0.1', '192.0.2.2']);
  assert.deepEqual(listenAddresses('0.0.0.0', '192.0.2.2'), ['0.0.0.0']);
  assert.deepEqual(listenAddresses('192.0.2.2', '192.0.2.2'), ['192.0.2.2']);
});
