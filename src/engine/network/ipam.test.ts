import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictError, InvalidError, UnavailableError } from '../../lib/errors.ts';
import { allocateIp, macFor } from './ipam.ts';
import type { NetworkRecord } from './state.ts';

function net(extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: 'n1',
    name: 'n1',
    driver: 'bridge',
    created: '',
    builtin: false,
    subnet: '10.89.7.0/29',
    gateway: '10.89.7.1',
    internal: false,
    attachable: false,
    labels: {},
    options: {},
    ...extra,
  };
}

test('allocation skips the gateway and used addresses, then continues after the last one', () => {
  const n = net();
  const used = new Set(['10.89.7.3']);
  assert.equal(allocateIp(n, used), '10.89.7.2');
  used.add('10.89.7.2');
  assert.equal(allocateIp(n, used), '10.89.7.4');
  used.delete('10.89.7.2'); // released: not reused before the range wraps
  assert.equal(allocateIp(n, used), '10.89.7.5');
});

test('a full network is unavailable', () => {
  const used = new Set(['10.89.7.2', '10.89.7.3', '10.89.7.4', '10.89.7.5', '10.89.7.6']);
  assert.throws(() => allocateIp(net(), used), UnavailableError);
});

test('requested addresses are checked', () => {
  assert.equal(allocateIp(net(), new Set(), '10.89.7.6'), '10.89.7.6');
  assert.throws(() => allocateIp(net(), new Set(['10.89.7.6']), '10.89.7.6'), ConflictError);
  assert.throws(() => allocateIp(net(), new Set(), '10.89.7.1'), ConflictError);
  assert.throws(() => allocateIp(net(), new Set(), '10.89.8.2'), InvalidError);
});

test('ip range restricts allocation', () => {
  const n = net({ subnet: '10.89.0.0/16', gateway: '10.89.0.1', ipRange: '10.89.5.0/24' });
  assert.equal(allocateIp(n, new Set()), '10.89.5.1');
});

test("MAC addresses follow Docker's 02:42 + IP convention", () => {
  assert.equal(macFor('172.28.0.2'), '02:42:ac:1c:00:02');
});
