import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseSubnet, formatSubnet, hostRange, overlaps, parseSubnet } from './subnet.ts';

const overlapCases = [
  { a: '172.28.0.0/16', b: '172.28.5.0/24', want: true },
  { a: '172.28.0.0/16', b: '172.29.0.0/16', want: false },
  { a: '10.0.0.0/8', b: '10.89.3.0/24', want: true },
  { a: '192.0.2.2/32', b: '192.0.2.0/24', want: true },
  { a: '0.0.0.0/0', b: '172.28.0.0/16', want: true },
];
for (const tc of overlapCases) {
  test(`overlaps ${tc.a} ${tc.b}`, () => {
    assert.equal(overlaps(parseSubnet(tc.a, true), parseSubnet(tc.b, true)), tc.want);
    assert.equal(overlaps(parseSubnet(tc.b, true), parseSubnet(tc.a, true)), tc.want);
  });
}

const chooseCases = [
  { name: 'empty host', taken: [], want: '172.28.0.0/16' },
  { name: 'first pool taken', taken: ['172.28.0.0/16'], want: '172.29.0.0/16' },
  { name: 'a wide route covers all 172.16/12', taken: ['172.16.0.0/12'], want: '10.89.0.0/24' },
  { name: 'a host route inside a candidate', taken: ['172.16.0.0/12', '10.89.0.7/32'], want: '10.89.1.0/24' },
];
for (const tc of chooseCases) {
  test(`chooseSubnet: ${tc.name}`, () => {
    const got = chooseSubnet(tc.taken.map((t) => parseSubnet(t, true)));
    assert.equal(got && formatSubnet(got), tc.want);
  });
}

test('parseSubnet refuses bad input and host bits', () => {
  for (const bad of ['10.0.0.1/24', '300.1.1.1/8', '10.0.0.0/33', 'x/8', '1.2.3/8']) {
    assert.throws(() => parseSubnet(bad), /invalid/);
  }
});

test('hostRange excludes network and broadcast addresses', () => {
  const [first, last] = hostRange(parseSubnet('10.89.3.0/24'));
  assert.equal(last - first, 253);
});
