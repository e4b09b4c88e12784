// Bridge networks on the real kernel: two netns "containers" on a user-defined
// network reach each other by address and by name (hosts files), the default
// bridge gets a non-colliding subnet, removal is refused while endpoints are
// attached, and releasing everything leaves no netns, bridge or nft element.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NetworkManager } from '../src/engine/network/manager.ts';
import { overlaps, parseSubnet } from '../src/engine/network/subnet.ts';
import { AlreadyExistsError, ForbiddenError } from '../src/lib/errors.ts';
import { silentLogger } from '../src/lib/logger.ts';

const tag = randomBytes(2).toString('hex');
const prefixes = {
  defaultBridge: `dnt${tag}b0`,
  bridgePrefix: `dnt${tag}-`,
  netnsPrefix: `dnt${tag}-`,
  table: `dnt${tag}`,
};
const dir = mkdtempSync(join(tmpdir(), 'drv-net-test-'));
const mgr = new NetworkManager({
  dataDir: join(dir, 'data'),
  runDir: join(dir, 'run'),
  log: silentLogger(),
  ...prefixes,
});
const ids = {
  a: `a${tag}${randomBytes(20).toString('hex')}`,
  b: `b${tag}${randomBytes(20).toString('hex')}`,
};
const netName = `drv-net-test-${tag}`;
const internalNet = `drv-net-test-${tag}-int`;
const internalId = `c${tag}${randomBytes(20).toString('hex')}`;
// An "outside" host: a netns behind a veth with no route back to any container subnet,
// so only masqueraded traffic gets an answer.
const outside = { ns: `dno${tag}`, hostIf: `dno${tag}h`, hostIp: '198.51.100.1', ip: '198.51.100.2' };

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function leftovers(): { netns: string[]; links: string[]; table: string } {
  const netns = readdirSync('/run/netns').filter((n) => n.startsWith(prefixes.netnsPrefix));
  const links = readdirSync('/sys/class/net').filter((n) => n.startsWith(`dnt${tag}`));
  return { netns, links, table: sh('nft', ['list', 'table', 'ip', prefixes.table]).out };
}

before(async () => {
  await mgr.init();
  const o = outside;
  for (const args of [
    ['netns', 'add', o.ns],
    ['link', 'add', o.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', o.ns],
    ['addr', 'add', `${o.hostIp}/30`, 'dev', o.hostIf],
    ['link', 'set', o.hostIf, 'up'],
    ['-n', o.ns, 'addr', 'add', `${o.ip}/30`, 'dev', 'eth0'],
    ['-n', o.ns, 'link', 'set', 'eth0', 'up'],
  ]) {
    const r = sh('ip', args);
    assert.equal(r.code, 0, r.out);
  }
});

after(async () => {
  await mgr.close();
  for (const id of [...Object.values(ids), internalId]) await mgr.releaseSandbox(id).catch(() => undefined);
  await mgr.remove(netName).catch(() => undefined);
  await mgr.remove(internalNet).catch(() => undefined);
  sh('ip', ['netns', 'del', outside.ns]);
  sh('ip', ['link', 'del', outside.hostIf]);
  const left = leftovers();
  for (const n of left.netns) sh('ip', ['netns', 'del', n]);
  for (const l of left.links) sh('ip', ['link', 'del', l]);
  await mgr.firewall.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('predefined networks and a default bridge subnet clear of host routes', async () => {
  const names = (await mgr.list()).map((n) => n.Name).sort();
  assert.deepEqual(names, ['bridge', 'host', 'none']);
  const bridge = await mgr.inspect('bridge');
  const subnet = parseSubnet(bridge.IPAM.Config[0]?.Subnet ?? '');
  const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route'], { encoding: 'utf8' })) as {
    dst: string;
    dev: string;
  }[];
  for (const r of routes) {
    if (r.dst === 'default' || r.dev === prefixes.defaultBridge) continue;
    assert.ok(!overlaps(parseSubnet(r.dst, true), subnet), `default subnet overlaps route ${r.dst}`);
  }
  assert.equal(bridge.Options['com.docker.network.bridge.name'], prefixes.defaultBridge);
});

test('user network: create, duplicate name, subnet distinct from the default bridge', async () => {
  const { Id } = await mgr.create({ Name: netName, Labels: { test: 'yes' } });
  assert.match(Id, /^[0-9a-f]{64}$/);
  await assert.rejects(mgr.create({ Name: netName }), (e: Error) => {
    assert.ok(e instanceof AlreadyExistsError);
    assert.equal(e.message, `network with name ${netName} already exists`);
    return true;
  });
  const user = parseSubnet((await mgr.inspect(netName)).IPAM.Config[0]?.Subnet ?? '');
  const def = parseSubnet((await mgr.inspect('bridge')).IPAM.Config[0]?.Subnet ?? '');
  assert.ok(!overlaps(user, def));
  assert.equal((await mgr.list({ label: ['test=yes'] })).length, 1);
});

test('two containers ping each other by address and by name', async () => {
  const hosts = { a: join(dir, 'hosts-a'), b: join(dir, 'hosts-b') };
  for (const p of Object.values(hosts)) writeFileSync(p, '');
  const a = await mgr.createSandbox(ids.a, {
    mode: { type: 'private' },
    hostname: 'alpha',
    hostsPath: hosts.a,
    networks: [{ network: netName, opts: { name: 'web', aliases: ['www'] } }],
  });
  const b = await mgr.createSandbox(ids.b, {
    mode: { type: 'private' },
    hostname: 'beta',
    hostsPath: hosts.b,
  });
  const epB = await mgr.connect(ids.b, netName, { name: 'db' });
  const ipB = epB.IPAddress ?? '';
  const ipA = a.endpoints[netName]?.IPAddress ?? '';
  assert.match(ipA, /^\d+\.\d+\.\d+\.\d+$/);
  assert.notEqual(ipA, epB.IPAddress);
  const nsB = (b.netnsPath ?? '').split('/').pop() ?? '';
  const ping = sh('ip', ['netns', 'exec', nsB, 'busybox', 'ping', '-c1', '-W1', ipA]);
  assert.equal(ping.code, 0, ping.out);
  // hosts files list the peers, with aliases; a's was rewritten in place when b joined
  assert.match(readFileSync(hosts.a, 'utf8'), new RegExp(`^${ipB.replaceAll('.', '\\.')}\\tdb `, 'm'));
  assert.match(readFileSync(hosts.b, 'utf8'), new RegExp(`^${ipA.replaceAll('.', '\\.')}\\tweb www `, 'm'));
  // resolution inside the container's view: the hosts file bind-mounted over /etc/hosts
  const byName = sh('ip', [
    'netns',
    'exec',
    nsB,
    'unshare',
    '-m',
    'sh',
    '-c',
    `mount --bind ${hosts.b} /etc/hosts && busybox ping -c1 -W1 www`,
  ]);
  assert.equal(byName.code, 0, byName.out);
  const inspect = await mgr.inspect(netName);
  assert.equal(Object.keys(inspect.Containers).length, 2);
  assert.equal(inspect.Containers[ids.a]?.Name, 'web');
});

test('outbound traffic is masqueraded; an internal network has no way out', async () => {
  const nsA = (mgr.netnsPathOf(ids.a) ?? '').split('/').pop() ?? '';
  const out = sh('ip', ['netns', 'exec', nsA, 'busybox', 'ping', '-c1', '-W1', outside.ip]);
  assert.equal(out.code, 0, out.out);
  await mgr.create({ Name: internalNet, Internal: true });
  const c = await mgr.createSandbox(internalId, {
    mode: { type: 'private' },
    networks: [{ network: internalNet, opts: { name: 'sealed' } }],
  });
  const nsC = (c.netnsPath ?? '').split('/').pop() ?? '';
  const blocked = sh('ip', ['netns', 'exec', nsC, 'busybox', 'ping', '-c1', '-W1', outside.ip]);
  assert.notEqual(blocked.code, 0, 'an internal network reached the outside');
  await mgr.releaseSandbox(internalId);
  await mgr.remove(internalNet);
});

test('a sandbox that fails half way leaves nothing behind', async () => {
  const id = `f${tag}${randomBytes(20).toString('hex')}`;
  await assert.rejects(
    mgr.createSandbox(id, {
      mode: { type: 'private' },
      networks: [
        { network: netName, opts: { name: 'half' } },
        { network: 'bridge', opts: { name: 'half', ipv4Address: '203.0.113.9' } },
      ],
    }),
    /^InvalidError: invalid address 203\.0\.113\.9/,
  );
  await mgr.drain();
  assert.equal(mgr.netnsPathOf(id), undefined);
  assert.ok(!(await mgr.inspect(netName)).Containers[id]);
  assert.deepEqual(
    leftovers().netns.filter((n) => n.includes(id.slice(0, 12))),
    [],
  );
});

test('remove is refused while endpoints are attached', async () => {
  await assert.rejects(mgr.remove(netName), (e: Error) => {
    assert.ok(e instanceof ForbiddenError);
    assert.match(
      e.message,
      /^error while removing network: network drv-net-test-\w+ id [0-9a-f]{64} has active endpoints$/,
    );
    return true;
  });
  await assert.rejects(mgr.remove('bridge'), ForbiddenError);
});

test('a second network becomes eth1; the default route moves when the first leaves', async () => {
  const ns = (mgr.netnsPathOf(ids.a) ?? '').split('/').pop() ?? '';
  const first = mgr.endpointsOf(ids.a)[netName];
  const second = await mgr.connect(ids.a, 'bridge', { name: 'web' });
  assert.match(
    sh('ip', ['-n', ns, '-4', '-br', 'addr', 'show', 'eth1']).out,
    new RegExp(`${second.IPAddress}/`),
  );
  assert.match(
    sh('ip', ['-n', ns, 'route', 'show', 'default']).out,
    new RegExp(`via ${first?.Gateway} dev eth0`),
  );
  await mgr.disconnect(ids.a, netName);
  assert.match(
    sh('ip', ['-n', ns, 'route', 'show', 'default']).out,
    new RegExp(`via ${second.Gateway} dev eth1`),
  );
  assert.deepEqual(Object.keys(mgr.endpointsOf(ids.a)), ['bridge']);
  await mgr.connect(ids.a, netName, { name: 'web', aliases: ['www'] });
});

test('disconnect updates peers, release and remove leave nothing behind', async () => {
  await mgr.disconnect(ids.b, netName);
  assert.doesNotMatch(mgr.hostsFileFor(ids.a), /\tdb /);
  await mgr.releaseSandbox(ids.a);
  await mgr.releaseSandbox(ids.b);
  await mgr.releaseSandbox(ids.b); // idempotent
  await mgr.remove(netName);
  await mgr.close(); // releases the warm sandboxes and waits for background deletions
  const left = leftovers();
  assert.deepEqual(left.netns, []);
  assert.deepEqual(left.links, [prefixes.defaultBridge]);
  assert.doesNotMatch(left.table, /elements = \{[^}]*dnt\w+-/);
  assert.equal((await mgr.prune()).deleted.length, 0);
});
