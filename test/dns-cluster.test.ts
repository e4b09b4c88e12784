/**
 * Cluster DNS acceptance on a real all-in-one cluster: busybox pods resolve
 * through the node's DNS at the cluster DNS address, Services by full and
 * short names, a headless Service to its pods, NXDOMAIN for missing names,
 * and other names through the host's resolver, which here is a fake DNS
 * server this test runs on a loopback address (never the internet).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../src/proxy/dns/fake-upstream.ts';
import { type Cluster, startCluster, until } from './support/cluster.ts';

let c: Cluster;
let upstream: FakeUpstream;
let dir: string;

const manifests = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: dnsweb }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: hl }
spec:
  clusterIP: None
  selector: { app: dnsweb }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: web-a, labels: { app: dnsweb } }
spec:
  terminationGracePeriodSeconds: 0
  containers: [{ name: c, image: busybox, command: [sleep, '3600'] }]
---
apiVersion: v1
kind: Pod
metadata: { name: web-b, labels: { app: dnsweb } }
spec:
  terminationGracePeriodSeconds: 0
  containers: [{ name: c, image: busybox, command: [sleep, '3600'] }]
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  clusterIP: None
  selector: { app: dnsdb }
  ports: [{ name: pg, port: 5432 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: dnsdb } }
  template:
    metadata: { labels: { app: dnsdb } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: c, image: busybox, command: [sleep, '3600'] }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  terminationGracePeriodSeconds: 0
  containers: [{ name: c, image: busybox, command: [sleep, '3600'] }]
`;

before(async () => {
  // The "host resolver" for this cluster: a fake on its own loopback address, port 53.
  const host = `127.53.${randomInt(1, 250)}.${randomInt(1, 250)}`;
  upstream = await startFakeUpstream({
    host,
    port: 53,
    records: { 'outside.example': [{ name: 'outside.example', type: 'A', ttl: 300, data: '192.0.2.33' }] },
  });
  dir = mkdtempSync(join(tmpdir(), 'drv-dns-test-'));
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${host}\n`);
  c = await startCluster({ name: 'dns', args: ['--resolv-conf', join(dir, 'resolv.conf')] });
});

after(async () => {
  const left = c ? await c.stop() : [];
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(left, [], 'nothing left behind (the dns link included)');
});

/** busybox nslookup in the long-running client pod. */
async function nslookup(name: string): Promise<{ code: number; out: string }> {
  const r = await c.kubectl(['exec', 'client', '--', 'nslookup', name]);
  return { code: r.code, out: r.stdout + r.stderr };
}

/**
 * The addresses busybox nslookup printed for `name`: the `Address:` lines
 * after each `Name:\t<name>` line (it prints one block per answered query).
 */
function addressesOf(out: string, name: string): string[] {
  const found = new Set<string>();
  const lines = out.split('\n');
  lines.forEach((line, i) => {
    if (line.replace(/^Name:\s*/, '') !== name || !line.startsWith('Name:')) return;
    for (const next of lines.slice(i + 1)) {
      const m = /^Address:\s*([0-9a-f.:]+)$/.exec(next.trim());
      if (!m) break;
      found.add(m[1] ?? '');
    }
  });
  return [...found].sort();
}

test('dns: kubectl run nslookup kubernetes.default', async () => {
  const apiIP = c.serviceCidr.replace('.0.0/16', '.0.1');
  const run = (name: string) =>
    c.kubectl(
      [
        'run',
        '-i',
        '--rm',
        name,
        '--image=busybox',
        '--restart=Never',
        '--',
        'nslookup',
        'kubernetes.default',
      ],
      { timeoutMs: 60_000 },
    );
  // kubectl run -i can miss the output of a container that exits before it
  // attaches (it falls back to logs); that race is not DNS's, so retry it.
  let r = await run('dns');
  for (let i = 1; i < 3 && !r.stdout.includes('Server:'); i++) r = await run(`dns-${i}`);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`Server:\\s+${c.clusterDNS.replaceAll('.', '\\.')}`));
  assert.match(r.stdout, /Name:\s+kubernetes\.default\.svc\.cluster\.local/);
  assert.deepEqual(addressesOf(r.stdout, 'kubernetes.default.svc.cluster.local'), [apiIP], r.stdout);
});

test('dns: Services by full and short name, headless to pod IPs, NXDOMAIN, forwarding', async () => {
  const applied = await c.kubectl(['apply', '-f', '-'], { stdin: manifests });
  assert.equal(applied.code, 0, applied.stderr);
  const ready = await until(
    'three running pods with IPs',
    async () => {
      const out = await c.k(
        'get',
        'pods',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.podIP}={.status.phase} {end}',
      );
      const pods = Object.fromEntries(
        out
          .trim()
          .split(' ')
          .map((p) => p.split('='))
          .filter((p) => p[2] === 'Running' && p[1])
          .map((p) => [p[0], p[1]]),
      );
      return pods['web-a'] && pods['web-b'] && pods.client ? pods : undefined;
    },
    45_000,
  );
  const webIP = await c.k('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}');

  const full = await nslookup('web.default.svc.cluster.local');
  assert.equal(full.code, 0, full.out);
  assert.deepEqual(addressesOf(full.out, 'web.default.svc.cluster.local'), [webIP], full.out);

  // busybox nslookup asks every search domain for a dotless name and exits 1
  // when any of them is NXDOMAIN; the first (the pod's namespace) answers.
  const short = await nslookup('web');
  assert.deepEqual(addressesOf(short.out, 'web.default.svc.cluster.local'), [webIP], short.out);
  const dotted = await nslookup('web.default');
  assert.equal(dotted.code, 0, dotted.out);
  assert.deepEqual(addressesOf(dotted.out, 'web.default.svc.cluster.local'), [webIP], dotted.out);

  // The EndpointSlice controller fills in the headless Service as the pods become ready.
  const podIPs = [ready['web-a'], ready['web-b']].sort();
  await until('the headless service to resolve to both pods', async () => {
    const r = await nslookup('hl.default.svc.cluster.local');
    return (
      r.code === 0 &&
      JSON.stringify(addressesOf(r.out, 'hl.default.svc.cluster.local')) === JSON.stringify(podIPs)
    );
  });

  // StatefulSet pods by hostname, their PTR, and SRV of a named port.
  const db = await until('both StatefulSet pods running', async () => {
    const out = await c.k('get', 'pods', 'db-0', 'db-1', '-o', 'jsonpath={.items[*].status.podIP}');
    const ips = out.trim().split(' ').filter(Boolean);
    return ips.length === 2 ? ips : undefined;
  });
  for (const [i, ip] of db.entries()) {
    const name = `db-${i}.db.default.svc.cluster.local`;
    await until(`${name} to resolve`, async () => {
      const r = await nslookup(name);
      return r.code === 0 && addressesOf(r.out, name).join() === ip;
    });
  }
  const ptr = await nslookup(db[0] ?? '');
  assert.match(ptr.out, /name = db-0\.db\.default\.svc\.cluster\.local/, ptr.out);
  const srv = await c.kubectl([
    'exec',
    'client',
    '--',
    'nslookup',
    '-type=SRV',
    '_http._tcp.web.default.svc.cluster.local',
  ]);
  assert.match(srv.stdout, /0 \d+ 80 web\.default\.svc\.cluster\.local/, srv.stdout + srv.stderr);

  const missing = await nslookup('nosuch.default.svc.cluster.local');
  assert.notEqual(missing.code, 0, missing.out);
  assert.match(missing.out, /NXDOMAIN|can't find/i);

  const outside = await nslookup('outside.example');
  assert.equal(outside.code, 0, outside.out);
  assert.deepEqual(addressesOf(outside.out, 'outside.example'), ['192.0.2.33'], outside.out);
  assert.ok(
    upstream.asked.some((q) => q.startsWith('outside.example A')),
    `the host resolver was asked: ${upstream.asked.join(', ')}`,
  );
  assert.ok(
    !upstream.asked.some((q) => q.includes('svc.cluster.local')),
    'cluster names are never forwarded',
  );
});
