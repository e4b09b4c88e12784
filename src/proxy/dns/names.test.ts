import assert from 'node:assert/strict';
import test from 'node:test';
import {
  addressFromDashed,
  addressFromReverse,
  canonicalName,
  dashedAddress,
  isValidQueryName,
  labelsUnder,
  reverseName,
} from './names.ts';

const addresses: { ip: string; reverse: string; dashed: string }[] = [
  { ip: '10.42.0.5', reverse: '5.0.42.10.in-addr.arpa', dashed: '10-42-0-5' },
  { ip: 'fd00::1', reverse: `1.${'0.'.repeat(28)}0.d.f.ip6.arpa`, dashed: 'fd00--1' },
  {
    ip: '2001:db8::ff00:42:8329',
    reverse: '9.2.3.8.2.4.0.0.0.0.f.f.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    dashed: '2001-db8--ff00-42-8329',
  },
  {
    ip: '::ffff:10.0.0.1',
    reverse: '1.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa',
    dashed: '--ffff-10.0.0.1',
  },
];

for (const tc of addresses)
  test(`names: ${tc.ip} reverse and dashed`, () => {
    assert.equal(reverseName(tc.ip), tc.reverse);
    assert.equal(dashedAddress(tc.ip), tc.dashed);
    if (!tc.ip.includes('.') || !tc.ip.includes(':')) {
      assert.equal(addressFromReverse(tc.reverse), tc.ip);
      assert.equal(addressFromDashed(tc.dashed), tc.ip);
    }
  });

test('names: partial and bad reverse names', () => {
  for (const n of [
    '0.42.10.in-addr.arpa',
    '05.0.42.10.in-addr.arpa',
    '256.0.42.10.in-addr.arpa',
    '1.2.ip6.arpa',
    'x.in-addr.arpa',
  ])
    assert.equal(addressFromReverse(n), undefined, n);
  assert.equal(addressFromDashed('web'), undefined);
});

test('names: canonical form, labels under a zone, validity', () => {
  assert.equal(canonicalName('Web.Default.SVC.'), 'web.default.svc');
  assert.deepEqual(labelsUnder('a.b.cluster.local', 'cluster.local'), ['a', 'b']);
  assert.deepEqual(labelsUnder('cluster.local', 'cluster.local'), []);
  assert.equal(labelsUnder('xcluster.local', 'cluster.local'), undefined);
  assert.ok(isValidQueryName('a.b.c.'));
  assert.ok(!isValidQueryName('a..b'));
  assert.ok(!isValidQueryName(`${'a'.repeat(64)}.b`));
  assert.ok(!isValidQueryName(`${'abcdefghi.'.repeat(26)}x`));
});
