// The CNI executor against the real plugins from /usr/lib/cni: a conflist of
// bridge + host-local + portmap (and loopback as its own list, as the kubelet
// runs it) set up a netns that reaches its gateway; the result is cached;
// CHECK passes; DEL in reverse with the cached result removes the veth, the
// lease, the portmap rules and the cache entry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hostRouteSubnets } from '../src/engine/network/bridge.ts';
import { type CniConfList, CniExecutor, type CniRuntime } from '../src/engine/network/cni.ts';
import { chooseSubnet, formatIp, formatSubnet, hostAt } from '../src/engine/network/subnet.ts';

const tag = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'drv-net-test-'));
const ns = `dnc${tag}`;
const bridge = `dnc${tag}b0`;
const cni = new CniExecutor({ cacheDir: join(dir, 'cache') });
let list: CniConfList;
const loList: CniConfList = { cniVersion: '1.0.0', name: `dnc${tag}-lo`, plugins: [{ type: 'loopback' }] };
const rt: CniRuntime = {
  containerId: `c${tag}${randomBytes(16).toString('hex')}`,
  netns: `/run/netns/${ns}`,
  ifname: 'eth0',
  args: [['IgnoreUnknown', '1']],
  capabilityArgs: { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] },
};

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/**
 * portmap leaves its shared top-level chains behind by design; remove them when
 * no mapping of anyone uses them any more, so the test leaves the host as found.
 */
function removePortmapScaffolding(): void {
  const nat = sh('iptables-save', ['-t', 'nat']).out;
  if (/-A CNI-HOSTPORT-DNAT /.test(nat)) return;
  sh('iptables', [
    '-t',
    'nat',
    '-D',
    'PREROUTING',
    '-m',
    'addrtype',
    '--dst-type',
    'LOCAL',
    '-j',
    'CNI-HOSTPORT-DNAT',
  ]);
  sh('iptables', [
    '-t',
    'nat',
    '-D',
    'OUTPUT',
    '-m',
    'addrtype',
    '--dst-type',
    'LOCAL',
    '-j',
    'CNI-HOSTPORT-DNAT',
  ]);
  const masq = ['-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ'];
  sh('iptables', ['-t', 'nat', '-D', 'POSTROUTING', ...masq]);
  for (const chain of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK']) {
    sh('iptables', ['-t', 'nat', '-F', chain]);
    sh('iptables', ['-t', 'nat', '-X', chain]);
  }
  // iptables-nft created these tables for portmap; drop them when they hold no rule at all.
  for (const family of ['ip', 'ip6']) {
    const listed = sh('nft', ['-j', 'list', 'table', family, 'nat']);
    if (listed.code === 0 && !listed.out.includes('"rule"')) sh('nft', ['delete', 'table', family, 'nat']);
  }
}

before(async () => {
  const subnet = chooseSubnet(await hostRouteSubnets());
  assert.ok(subnet);
  list = {
    cniVersion: '1.0.0',
    name: `dnc${tag}`,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: formatSubnet(subnet), gateway: formatIp(hostAt(subnet, 1)) }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: join(dir, 'leases'),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  assert.equal(sh('ip', ['netns', 'add', ns]).code, 0);
});

after(async () => {
  await cni.del(list, rt).catch(() => undefined);
  sh('ip', ['netns', 'del', ns]);
  sh('ip', ['link', 'del', bridge]);
  removePortmapScaffolding();
  rmSync(dir, { recursive: true, force: true });
});

test('runtimeConfig goes only to plugins with the capability', () => {
  const [bridgePlugin, portmap] = list.plugins;
  assert.ok(bridgePlugin && portmap);
  assert.equal(CniExecutor.pluginConfig(list, bridgePlugin, rt).runtimeConfig, undefined);
  const conf = CniExecutor.pluginConfig(list, portmap, rt, { cniVersion: '1.0.0' });
  assert.deepEqual(conf.runtimeConfig, { portMappings: rt.capabilityArgs?.portMappings });
  assert.equal(conf.name, list.name);
  assert.deepEqual(conf.prevResult, { cniVersion: '1.0.0' });
});

test('ADD sets up loopback and the bridge chain, caching the result', async () => {
  await cni.add(loList, { ...rt, ifname: 'lo' });
  const result = await cni.add(list, rt);
  const ip = result.ips?.[0];
  assert.ok(ip?.address && ip.gateway, JSON.stringify(result));
  assert.deepEqual(await cni.cachedResult(list, rt), result);
  const ping = sh('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c1', '-W1', ip.gateway]);
  assert.equal(ping.code, 0, ping.out);
  assert.match(sh('ip', ['-n', ns, '-br', 'link', 'show', 'lo']).out, /UP|UNKNOWN/);
  assert.match(sh('iptables-save', ['-t', 'nat']).out, /--dport 18080/);
  // portmap 1.1.1's CHECK insists on an IPv6 chain it never creates for IPv4-only
  // results (fixed upstream later), so CHECK runs over the bridge plugin alone.
  await cni.check({ ...list, plugins: list.plugins.slice(0, 1) }, rt);
});

test('DEL in reverse removes veth, lease, port rules and cache', async () => {
  await cni.del(list, rt);
  await cni.del(loList, { ...rt, ifname: 'lo' });
  assert.equal(await cni.cachedResult(list, rt), undefined);
  assert.doesNotMatch(sh('ip', ['-n', ns, 'link']).out, /eth0/);
  assert.doesNotMatch(sh('iptables-save', ['-t', 'nat']).out, /--dport 18080/);
  const leases = join(dir, 'leases', list.name);
  const left = existsSync(leases) ? readdirSync(leases).filter((f) => /^\d/.test(f)) : [];
  assert.deepEqual(left, []);
  await cni.del(list, rt); // idempotent
});
