// Per-container network setup + teardown on the default bridge: Drover's
// direct path (one `ip` batch on the host, one inside the netns, `ip netns
// del`; nft only when ports are published) beside the CNI plugin chain
// (loopback, bridge + host-local, portmap) that podman and the kubelet use.
// Run as root: node bench/network-setup.ts [rounds]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostRouteSubnets } from '../src/engine/network/bridge.ts';
import { type CniConfList, CniExecutor } from '../src/engine/network/cni.ts';
import { NetworkManager } from '../src/engine/network/manager.ts';
import { chooseSubnet, formatIp, formatSubnet, hostAt, parseSubnet } from '../src/engine/network/subnet.ts';
import { silentLogger } from '../src/lib/logger.ts';

const rounds = Number(process.argv[2] ?? 20);
const tag = randomBytes(2).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'drv-net-bench-'));
const prefixes = {
  defaultBridge: `dnb${tag}b0`,
  bridgePrefix: `dnb${tag}-`,
  netnsPrefix: `dnb${tag}-`,
  table: `dnb${tag}`,
};

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** portmap leaves shared chains (and iptables-nft its tables) behind; remove them when unused. */
function removePortmapScaffolding(): void {
  if (/-A CNI-HOSTPORT-DNAT /.test(sh('iptables-save', ['-t', 'nat']).out)) return;
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
  for (const family of ['ip', 'ip6']) {
    const listed = sh('nft', ['-j', 'list', 'table', family, 'nat']);
    if (listed.code === 0 && !listed.out.includes('"rule"')) sh('nft', ['delete', 'table', family, 'nat']);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function measure(fn: (i: number) => Promise<Timing>) {
  await fn(-1); // warm-up
  const setup: number[] = [];
  const teardown: number[] = [];
  const background: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await fn(i);
    setup.push(r.setup);
    teardown.push(r.teardown);
    background.push(r.background ?? 0);
  }
  return {
    setup: median(setup),
    teardown: median(teardown),
    total: median(setup.map((s, i) => s + (teardown[i] ?? 0))),
    background: median(background),
  };
}

const base = { dataDir: join(dir, 'data'), runDir: join(dir, 'run'), log: silentLogger(), ...prefixes };
const cni = new CniExecutor({ cacheDir: join(dir, 'cni-cache') });
let cniList: CniConfList | undefined;
let mgr = new NetworkManager({ ...base, warmPool: 0 });

interface Timing {
  setup: number;
  teardown: number;
  /** Work left to the background after teardown returned (netns deletion, pool refill). */
  background?: number;
}

try {
  await mgr.init();
  // Between two containers the benchmark waits for background work, untimed on
  // the critical path but reported: a real `run` leaves that gap too.
  const direct =
    (ports: boolean) =>
    async (i: number): Promise<Timing> => {
      const id = `${tag}${i + 1}${randomBytes(16).toString('hex')}`;
      const t0 = performance.now();
      await mgr.createSandbox(id, {
        mode: { type: 'private' },
        networks: [{ network: 'bridge', opts: { name: id } }],
      });
      if (ports) await mgr.publishPorts(id, { portBindings: { '80/tcp': [{ HostPort: '' }] } });
      const t1 = performance.now();
      await mgr.releaseSandbox(id);
      const t2 = performance.now();
      await mgr.drain(); // netns deletion and nft removal, off the critical path
      const t3 = performance.now();
      await new Promise((r) => setTimeout(r, 30)); // let the pool refill timer fire
      await mgr.drain();
      return { setup: t1 - t0, teardown: t2 - t1, background: t3 - t2 };
    };

  const ours = await measure(direct(false));
  const oursPorts = await measure(direct(true));
  await mgr.close();
  mgr = new NetworkManager({ ...base, warmPool: 2 });
  await mgr.init();
  const warm = await measure(direct(false));
  const warmPorts = await measure(direct(true));

  const taken = [
    ...(await hostRouteSubnets()),
    parseSubnet((await mgr.inspect('bridge')).IPAM.Config[0]?.Subnet ?? ''),
  ];
  const subnet = chooseSubnet(taken);
  if (!subnet) throw new Error('no free subnet for the CNI bridge');
  const list: CniConfList = {
    cniVersion: '1.0.0',
    name: `dnb${tag}`,
    plugins: [
      {
        type: 'bridge',
        bridge: `dnb${tag}c0`,
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
  cniList = list;
  const lo: CniConfList = { cniVersion: '1.0.0', name: `dnb${tag}-lo`, plugins: [{ type: 'loopback' }] };
  const viaCni = (ports: boolean) => async (i: number) => {
    const id = `${tag}${i + 1}${randomBytes(16).toString('hex')}`;
    const ns = `dnb${tag}-${id.slice(0, 8)}`;
    const rt = { containerId: id, netns: `/run/netns/${ns}`, ifname: 'eth0' };
    const capabilityArgs = ports
      ? { portMappings: [{ hostPort: 20000 + i + 2, containerPort: 80, protocol: 'tcp' }] }
      : {};
    const t0 = performance.now();
    spawnSync('ip', ['netns', 'add', ns]);
    await cni.add(lo, { ...rt, ifname: 'lo' });
    await cni.add(list, { ...rt, capabilityArgs });
    const t1 = performance.now();
    await cni.del(list, { ...rt, capabilityArgs });
    await cni.del(lo, { ...rt, ifname: 'lo' });
    spawnSync('ip', ['netns', 'del', ns]);
    return { setup: t1 - t0, teardown: performance.now() - t1 };
  };
  const viaPlugins = await measure(viaCni(false));
  const viaPluginsPorts = await measure(viaCni(true));

  type Row = Awaited<ReturnType<typeof measure>>;
  const fmt = (a: Row) => `${a.setup.toFixed(1)} + ${a.teardown.toFixed(1)} = ${a.total.toFixed(1)} ms`;
  const row = (name: string, a: Row, b: Row) =>
    console.log(
      `${name.padEnd(34)} drover ${fmt(a)} (+${a.background.toFixed(1)} bg)   CNI plugins ${fmt(b)}   ratio ${(a.total / b.total).toFixed(2)}x`,
    );
  console.log(`network setup + teardown per container on the critical path, median of ${rounds} (ms);`);
  console.log(
    'bg = cleanup finished in the background after teardown returned (netns deletion, nft removal)',
  );
  row('bridge, no ports, direct', ours, viaPlugins);
  row('bridge, no ports, warm pool', warm, viaPlugins);
  row('bridge, one -p port, direct', oursPorts, viaPluginsPorts);
  row('bridge, one -p port, warm pool', warmPorts, viaPluginsPorts);
} finally {
  spawnSync('ip', ['link', 'del', prefixes.defaultBridge]);
  if (cniList) spawnSync('ip', ['link', 'del', `dnb${tag}c0`]);
  await mgr.close();
  await mgr.firewall.destroy();
  removePortmapScaffolding();
  rmSync(dir, { recursive: true, force: true });
}
