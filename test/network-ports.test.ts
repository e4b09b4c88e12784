// Published ports on the real kernel: a busybox httpd inside a netns on the
// default bridge answers on 127.0.0.1:<hostPort> through nftables DNAT (no
// proxy process); a port held by another container or by a host process is
// refused with Docker's wording; unpublishing and releasing remove the rules.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NetworkManager } from '../src/engine/network/manager.ts';
import { ConflictError } from '../src/lib/errors.ts';
import { silentLogger } from '../src/lib/logger.ts';

const tag = randomBytes(2).toString('hex');
const prefixes = {
  defaultBridge: `dnp${tag}b0`,
  bridgePrefix: `dnp${tag}-`,
  netnsPrefix: `dnp${tag}-`,
  table: `dnp${tag}`,
};
const dir = mkdtempSync(join(tmpdir(), 'drv-net-test-'));
const mgr = new NetworkManager({
  dataDir: join(dir, 'data'),
  runDir: join(dir, 'run'),
  log: silentLogger(),
  ...prefixes,
});
const ids = {
  web: `w${tag}${randomBytes(20).toString('hex')}`,
  other: `o${tag}${randomBytes(20).toString('hex')}`,
};
let httpd: ChildProcess | undefined;
let hostServer: Server | undefined;
let containerIp = '';

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.text();
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  await mgr.init();
  const www = join(dir, 'www');
  mkdirSync(www);
  writeFileSync(join(www, 'index.html'), 'hello from the container\n');
  const sb = await mgr.createSandbox(ids.web, {
    mode: { type: 'private' },
    networks: [{ network: 'bridge', opts: { name: 'web' } }],
  });
  containerIp = sb.endpoints.bridge?.IPAddress ?? '';
  // init() filled the warm pool: the default bridge sandbox is handed over ready-made
  assert.match(sb.netnsPath ?? '', new RegExp(`/${prefixes.netnsPrefix}p[0-9a-f]{10}$`));
  const ns = (sb.netnsPath ?? '').split('/').pop() ?? '';
  httpd = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], {
    stdio: 'ignore',
  });
  await waitFor('httpd', async () => (await get(`http://${containerIp}:8080/`)).includes('hello'));
  await mgr.createSandbox(ids.other, {
    mode: { type: 'private' },
    networks: [{ network: 'bridge', opts: { name: 'other' } }],
  });
});

after(async () => {
  httpd?.kill('SIGKILL');
  await mgr.close();
  hostServer?.close();
  for (const id of Object.values(ids)) await mgr.releaseSandbox(id).catch(() => undefined);
  for (const n of readdirSync('/run/netns').filter((x) => x.startsWith(prefixes.netnsPrefix))) {
    spawnSync('ip', ['netns', 'del', n]);
  }
  spawnSync('ip', ['link', 'del', prefixes.defaultBridge]);
  await mgr.firewall.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let published = 0;

test('an ephemeral host port reaches the container from 127.0.0.1 and the host address', async () => {
  const ports = await mgr.publishPorts(ids.web, {
    portBindings: { '8080/tcp': [{ HostIp: '', HostPort: '' }] },
  });
  const binding = ports['8080/tcp']?.[0];
  assert.equal(binding?.HostIp, '0.0.0.0');
  published = Number(binding?.HostPort);
  assert.ok(published > 0);
  assert.equal(await get(`http://127.0.0.1:${published}/`), 'hello from the container\n');
  assert.deepEqual(mgr.portsOf(ids.web), ports);
  const hostIp = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('172.'))?.address;
  if (hostIp) assert.equal(await get(`http://${hostIp}:${published}/`), 'hello from the container\n');
});

test('a port published by another container is refused', async () => {
  await assert.rejects(
    mgr.publishPorts(ids.other, { portBindings: { '80/tcp': [{ HostPort: String(published) }] } }),
    (e: Error) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.message, `Bind for 0.0.0.0:${published} failed: port is already allocated`);
      return true;
    },
  );
});

test('a port a host process listens on is refused', async () => {
  const srv = createServer();
  hostServer = srv;
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await assert.rejects(
    mgr.publishPorts(ids.other, {
      portBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    }),
    new RegExp(`^ConflictError: Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated$`),
  );
  assert.deepEqual(mgr.portsOf(ids.other), {});
});

test('-P publishes every exposed port; a specific host address binds only there', async () => {
  const ports = await mgr.publishPorts(ids.web, {
    portBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    exposedPorts: { '8080/tcp': {}, '9000/udp': {} },
    publishAll: true,
  });
  const local = ports['8080/tcp']?.find((b) => b.HostIp === '127.0.0.1');
  assert.ok(local);
  assert.ok(ports['9000/udp']?.[0]?.HostPort);
  assert.equal(await get(`http://127.0.0.1:${local.HostPort}/`), 'hello from the container\n');
});

test('unpublish and release remove the rules', async () => {
  await mgr.unpublish(ids.web);
  await assert.rejects(get(`http://127.0.0.1:${published}/`));
  await mgr.releaseSandbox(ids.web);
  await mgr.releaseSandbox(ids.other);
  await mgr.close();
  assert.deepEqual(
    readdirSync('/run/netns').filter((x) => x.startsWith(prefixes.netnsPrefix)),
    [],
  );
  const table = spawnSync('nft', ['list', 'table', 'ip', prefixes.table], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(table, /ports_(any|ip) \{[^}]*elements/);
});
