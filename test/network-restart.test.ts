// Daemon restart and reboot recovery: a new NetworkManager over the same
// directories re-adopts sandboxes, endpoints and published ports, sweeps a
// namespace no record claims, and recreates a bridge and the nftables table
// that vanished (as after a reboot or someone's `nft flush ruleset`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NetworkManager, type NetworkManagerOptions } from '../src/engine/network/manager.ts';
import { silentLogger } from '../src/lib/logger.ts';

const tag = randomBytes(2).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'drv-net-test-'));
const opts: NetworkManagerOptions = {
  dataDir: join(dir, 'data'),
  runDir: join(dir, 'run'),
  log: silentLogger(),
  defaultBridge: `dnr${tag}b0`,
  bridgePrefix: `dnr${tag}-`,
  netnsPrefix: `dnr${tag}-`,
  table: `dnr${tag}`,
  warmPool: 1,
};
const id = `r${tag}${randomBytes(20).toString('hex')}`;
const netName = `drv-net-test-${tag}-r`;
const managers: NetworkManager[] = [];

function fresh(): NetworkManager {
  const m = new NetworkManager(opts);
  managers.push(m);
  return m;
}

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

after(async () => {
  const last = managers[managers.length - 1];
  if (last) {
    await last.releaseSandbox(id).catch(() => undefined);
    await last.remove(netName).catch(() => undefined);
  }
  for (const m of managers) await m.close().catch(() => undefined);
  for (const n of readdirSync('/run/netns').filter((x) => x.startsWith(opts.netnsPrefix ?? '-'))) {
    sh('ip', ['netns', 'del', n]);
  }
  for (const l of readdirSync('/sys/class/net').filter((x) => x.startsWith(`dnr${tag}`)))
    sh('ip', ['link', 'del', l]);
  sh('nft', ['delete', 'table', 'ip', opts.table ?? '-']);
  rmSync(dir, { recursive: true, force: true });
});

let port = '';
let bridge = '';

test('a restarted manager re-adopts sandboxes and ports and sweeps orphans', async () => {
  const first = fresh();
  await first.init();
  // Inspect echoes only requested options, so name the bridge to know it.
  bridge = `dnr${tag}-u`;
  await first.create({ Name: netName, Options: { 'com.docker.network.bridge.name': bridge } });
  const sb = await first.createSandbox(id, {
    mode: { type: 'private' },
    networks: [{ network: netName, opts: { name: 'keeper' } }],
  });
  const ports = await first.publishPorts(id, { portBindings: { '80/tcp': [{ HostPort: '' }] } });
  port = ports['80/tcp']?.[0]?.HostPort ?? '';
  await first.drain();
  // what a crash leaves: a namespace of ours that no record claims
  assert.equal(sh('ip', ['netns', 'add', `${opts.netnsPrefix}orphan`]).code, 0);

  const second = fresh();
  await second.init();
  assert.ok(existsSync(sb.netnsPath ?? '-'), 'the running container lost its netns');
  assert.ok(!existsSync(`/run/netns/${opts.netnsPrefix}orphan`), 'orphan netns not swept');
  assert.equal((await second.inspect(netName)).Containers[id]?.Name, 'keeper');
  assert.deepEqual(second.portsOf(id), ports);
  assert.match(sh('nft', ['list', 'table', 'ip', opts.table ?? '-']).out, new RegExp(`tcp \\. ${port} :`));
  // the first manager's warm sandbox was swept and a new one made: exactly one left
  const warm = readdirSync('/run/netns').filter((n) => n.startsWith(`${opts.netnsPrefix}p`));
  assert.equal(warm.length, 1);
});

test('after a "reboot" (bridge and table gone) init recreates them', async () => {
  await managers[0]?.close();
  await managers[1]?.close();
  sh('ip', ['link', 'del', bridge]);
  sh('nft', ['delete', 'table', 'ip', opts.table ?? '-']);
  const third = fresh();
  await third.init();
  assert.ok(existsSync(`/sys/class/net/${bridge}`), 'bridge not recreated');
  const table = sh('nft', ['list', 'table', 'ip', opts.table ?? '-']).out;
  assert.match(table, new RegExp(`"${bridge}"`));
  assert.match(table, new RegExp(`tcp \\. ${port} :`));
});
