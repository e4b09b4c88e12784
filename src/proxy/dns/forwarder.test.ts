import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { silentLogger } from '../../lib/logger.ts';
import { TtlCache } from './cache.ts';
import { startFakeUpstream } from './fake-upstream.ts';
import { summary } from './fake-view.ts';
import { cacheTtl, type Forwarded, Forwarder } from './forwarder.ts';
import { parseNameservers, ResolvConf } from './resolv-conf.ts';

const records = {
  'example.org': [{ name: 'example.org', type: 'A' as const, ttl: 120, data: '192.0.2.7' }],
  'short.example': [{ name: 'short.example', type: 'A' as const, ttl: 1, data: '192.0.2.8' }],
};

test('forwarder: answers from the upstream, then from the cache with aged TTLs', async (t) => {
  const up = await startFakeUpstream({ records });
  t.after(() => up.close());
  let now = 1_000_000;
  const f = new Forwarder({
    upstreams: () => [up],
    log: silentLogger(),
    cache: new TtlCache<Forwarded>({ now: () => now }),
  });
  t.after(() => f.close());
  const first = await f.resolve('Example.ORG', 'A');
  assert.equal(first.rcode, 'NOERROR');
  assert.deepEqual(summary(first.answers), ['A 192.0.2.7']);
  now += 30_500;
  const second = await f.resolve('example.org', 'A');
  assert.equal(second.answers[0]?.type === 'A' && second.answers[0].ttl, 90);
  assert.deepEqual(up.asked, ['Example.ORG A udp'], 'one upstream query');
  now += 90_000;
  await f.resolve('example.org', 'A');
  assert.equal(up.asked.length, 2, 'expired: asked again');
});

test('forwarder: NXDOMAIN is cached for the SOA minimum; concurrent questions share one query', async (t) => {
  const up = await startFakeUpstream({ records });
  t.after(() => up.close());
  const f = new Forwarder({ upstreams: () => [up], log: silentLogger() });
  t.after(() => f.close());
  const all = await Promise.all([1, 2, 3].map(() => f.resolve('missing.example', 'A')));
  for (const r of all) assert.equal(r.rcode, 'NXDOMAIN');
  assert.equal(cacheTtl(all[0] as Forwarded), 60);
  await f.resolve('missing.example', 'A');
  assert.equal(up.asked.length, 1);
});

test('forwarder: a truncated UDP reply is asked again over TCP', async (t) => {
  const up = await startFakeUpstream({ records, truncateUdp: true });
  t.after(() => up.close());
  const f = new Forwarder({ upstreams: () => [up], log: silentLogger() });
  t.after(() => f.close());
  const r = await f.resolve('example.org', 'A');
  assert.deepEqual(summary(r.answers), ['A 192.0.2.7']);
  assert.deepEqual(up.asked, ['example.org A udp', 'example.org A tcp']);
});

test('forwarder: a dead upstream is skipped after the timeout; none left is SERVFAIL', async (t) => {
  const dead = await startFakeUpstream({ records, silent: true });
  const live = await startFakeUpstream({ records });
  t.after(() => Promise.all([dead.close(), live.close()]));
  const f = new Forwarder({ upstreams: () => [dead, live], log: silentLogger(), timeoutMs: 150 });
  t.after(() => f.close());
  assert.deepEqual(summary((await f.resolve('example.org', 'A')).answers), ['A 192.0.2.7']);
  const none = new Forwarder({ upstreams: () => [dead], log: silentLogger(), timeoutMs: 100 });
  t.after(() => none.close());
  assert.equal((await none.resolve('example.org', 'A')).rcode, 'SERVFAIL');
  const empty = new Forwarder({ upstreams: () => [], log: silentLogger() });
  assert.equal((await empty.resolve('example.org', 'A')).rcode, 'SERVFAIL');
});

test('resolv.conf: nameservers in order, comments and junk skipped', () => {
  const text =
    '# hi\nsearch x\nnameserver 10.0.0.2 # c\nnameserver fe80::1%eth0\nnameserver bogus\n;x\nnameserver 10.0.0.3\n';
  assert.deepEqual(parseNameservers(text), ['10.0.0.2', 'fe80::1%eth0', '10.0.0.3']);
});

test('resolv.conf: skips ourselves and re-reads a changed file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'drv-dns-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'resolv.conf');
  await writeFile(path, 'nameserver 10.43.0.10\nnameserver 127.0.0.53\n');
  let now = 0;
  const rc = new ResolvConf({ path, isSelf: (ip) => ip === '10.43.0.10', recheckMs: 1000, now: () => now });
  assert.deepEqual(await rc.upstreams(), [{ host: '127.0.0.53', port: 53 }]);
  await writeFile(path, 'nameserver 127.0.0.9\n');
  await utimes(path, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(await rc.upstreams(), [{ host: '127.0.0.53', port: 53 }], 'not re-checked yet');
  now += 1000;
  assert.deepEqual(await rc.upstreams(), [{ host: '127.0.0.9', port: 53 }]);
  const missing = new ResolvConf({ path: join(dir, 'nope'), isSelf: () => false });
  assert.deepEqual(await missing.upstreams(), []);
});
