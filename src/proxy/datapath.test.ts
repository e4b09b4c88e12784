/**
 * The rules carry real traffic: a "node" namespace with a bridge and two
 * "pod" namespaces on it (the CNI bridge layout), busybox httpd in the pods,
 * the proxy's table in the node. Shows why host.ts turns on br_netfilter
 * (or masquerades everything): pod → ClusterIP → pod on the same bridge
 * fails without either.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { skeleton } from './base.ts';
import { canUseNetns, service, slice, testNetns } from './fixtures.ts';
import { servicePortModels } from './model.ts';
import { nftRunner } from './nft.ts';
import { emptyRuleSet, serviceRules } from './rules.ts';
import { buildScript, mergeRuleSets, withHairpin } from './transaction.ts';

const skip = !canUseNetns && 'needs root (network namespaces, nftables)';
const node = { name: '', remove() {} };
const pods: Record<'a' | 'b', { name: string; remove(): void; ip: string; httpd?: ChildProcess }> = {
  a: { name: '', remove() {}, ip: '10.99.0.2' },
  b: { name: '', remove() {}, ip: '10.99.0.3' },
};
const outside = { name: '', remove() {} };
const dir = mkdtempSync(join(tmpdir(), 'drv-proxy-datapath-'));

const inNs = (ns: string, ...cmd: string[]) =>
  execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
const sysctl = (ns: string, path: string, v: string) => inNs(ns, 'sh', '-c', `echo ${v} > /proc/sys/${path}`);

before(() => {
  if (skip) return;
  Object.assign(node, testNetns('dpn'));
  sysctl(node.name, 'net/ipv4/ip_forward', '1');
  execFileSync('ip', ['-n', node.name, 'link', 'add', 'br0', 'type', 'bridge']);
  execFileSync('ip', ['-n', node.name, 'addr', 'add', '10.99.0.1/24', 'dev', 'br0']);
  execFileSync('ip', ['-n', node.name, 'link', 'set', 'br0', 'up']);
  for (const [k, p] of Object.entries(pods)) {
    Object.assign(p, testNetns(`dp${k}`));
    execFileSync('ip', [
      '-n',
      node.name,
      'link',
      'add',
      `v${k}`,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      p.name,
    ]);
    execFileSync('ip', ['-n', node.name, 'link', 'set', `v${k}`, 'master', 'br0', 'up']);
    execFileSync('ip', ['-n', node.name, 'link', 'set', `v${k}`, 'type', 'bridge_slave', 'hairpin', 'on']);
    execFileSync('ip', ['-n', p.name, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0']);
    execFileSync('ip', ['-n', p.name, 'link', 'set', 'eth0', 'up']);
    execFileSync('ip', ['-n', p.name, 'route', 'add', 'default', 'via', '10.99.0.1']);
    const www = join(dir, k);
    execFileSync('mkdir', ['-p', www]);
    writeFileSync(join(www, 'index.html'), `pod-${k}\n`);
    // The caller's address as the pod sees it (busybox httpd CGI).
    execFileSync('mkdir', ['-p', join(www, 'cgi-bin')]);
    writeFileSync(
      join(www, 'cgi-bin', 'ip'),
      '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n$REMOTE_ADDR\\n"\n',
      {
        mode: 0o755,
      },
    );
    p.httpd = spawn('ip', ['netns', 'exec', p.name, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], {
      stdio: 'ignore',
    });
  }
  // A client outside the node: its own namespace on a link of its own (192.168.77.0/24).
  Object.assign(outside, testNetns('dpx'));
  execFileSync('ip', [
    '-n',
    node.name,
    'link',
    'add',
    'vx',
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    outside.name,
  ]);
  execFileSync('ip', ['-n', node.name, 'addr', 'add', '192.168.77.1/24', 'dev', 'vx']);
  execFileSync('ip', ['-n', node.name, 'link', 'set', 'vx', 'up']);
  execFileSync('ip', ['-n', outside.name, 'addr', 'add', '192.168.77.2/24', 'dev', 'eth0']);
  execFileSync('ip', ['-n', outside.name, 'link', 'set', 'eth0', 'up']);
  execFileSync('ip', ['-n', outside.name, 'route', 'add', 'default', 'via', '192.168.77.1']);
  // Node ports on 127.0.0.1: the DNATed packet leaves over the bridge with source 127.0.0.1.
  sysctl(node.name, 'net/ipv4/conf/br0/route_localnet', '1');
});

after(() => {
  for (const p of Object.values(pods)) {
    p.httpd?.kill();
    p.remove();
  }
  outside.remove();
  node.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function load(masqueradeAll: boolean): Promise<void> {
  const svc = service('web', {
    clusterIP: '10.98.0.5',
    type: 'NodePort',
    ports: [{ name: 'http', port: 80, nodePort: 30080 }],
  });
  const sl = slice('web', [{ ip: pods.b.ip }]);
  const self = service('self', { clusterIP: '10.98.0.6' });
  const none = service('none', { clusterIP: '10.98.0.7' });
  const local = service('local', {
    clusterIP: '10.98.0.8',
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    ports: [{ name: 'http', port: 80, nodePort: 30081 }],
  });
  const remote = service('remote', {
    clusterIP: '10.98.0.9',
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    ports: [{ name: 'http', port: 80, nodePort: 30082 }],
  });
  const ctx = { clusterCIDR: '10.99.0.0/24', masqueradeAll, loadBalancerPorts: new Set<string>() };
  const sets = [
    serviceRules(servicePortModels(svc, [sl], 'n'), ctx),
    serviceRules(servicePortModels(self, [slice('self', [{ ip: pods.a.ip }])], 'n'), ctx),
    serviceRules(servicePortModels(none, [], 'n'), ctx),
    serviceRules(servicePortModels(local, [slice('local', [{ ip: pods.b.ip, node: 'n' }])], 'n'), ctx),
    serviceRules(servicePortModels(remote, [slice('remote', [{ ip: pods.b.ip, node: 'other' }])], 'n'), ctx),
  ];
  const next = mergeRuleSets(sets);
  const script = buildScript({
    table: 'drv-proxy-dp',
    skeleton: skeleton(),
    old: emptyRuleSet(),
    next: withHairpin(next, next.backendIPs),
    mode: 'recreate',
  });
  await nftRunner({ netns: node.name })(script);
}

/** busybox wget in `ns`, bounded (its own -T segfaults in Debian's static build). */
function fetch(ns: string, url: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'timeout', '2', 'busybox', 'wget', '-qO-', url], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim() || r.status}`;
}

async function untilServing(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (fetch(pods.a.name, `http://${pods.b.ip}:8080/`) !== 'pod-b') {
    if (Date.now() > deadline) throw new Error('the pods do not serve');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('datapath: with br_netfilter, pod → ClusterIP → pod, hairpin, node port on 127.0.0.1, reject', {
  skip,
}, async () => {
  sysctl(node.name, 'net/bridge/bridge-nf-call-iptables', '1');
  await load(false);
  await untilServing();
  assert.equal(
    fetch(pods.a.name, 'http://10.98.0.5/'),
    'pod-b',
    'pod to ClusterIP to pod on the same bridge',
  );
  assert.equal(fetch(pods.a.name, 'http://10.98.0.6/'), 'pod-a', 'a pod reaching itself through its Service');
  assert.equal(fetch(node.name, 'http://127.0.0.1:30080/'), 'pod-b', 'node port on 127.0.0.1');
  assert.equal(fetch(node.name, 'http://10.99.0.1:30080/'), 'pod-b', 'node port on the node address');
  assert.equal(fetch(pods.a.name, 'http://10.99.0.1:30080/'), 'pod-b', 'node port from a pod');
  const refused = spawnSync(
    'ip',
    ['netns', 'exec', pods.a.name, 'timeout', '2', 'busybox', 'nc', '10.98.0.7', '80'],
    {
      encoding: 'utf8',
      input: '',
    },
  );
  assert.notEqual(refused.status, 124, 'no endpoints: refused at once, not left to time out');
  assert.notEqual(refused.status, 0);
});

test('datapath: externalTrafficPolicy Local keeps the client address; Cluster masquerades', {
  skip,
}, async () => {
  sysctl(node.name, 'net/bridge/bridge-nf-call-iptables', '1');
  await load(false);
  await untilServing();
  // busybox httpd listens on :: and reports IPv4 callers as [::ffff:a.b.c.d].
  const caller = (url: string) => fetch(outside.name, url).replace(/^\[::ffff:(.*)\]$/, '$1');
  assert.equal(caller('http://192.168.77.1:30080/cgi-bin/ip'), '10.99.0.1', 'Cluster: masqueraded');
  assert.equal(caller('http://192.168.77.1:30081/cgi-bin/ip'), '192.168.77.2', 'Local: source kept');
  assert.match(
    fetch(outside.name, 'http://192.168.77.1:30082/'),
    /^failed/,
    'Local without a local endpoint: dropped',
  );
  assert.equal(fetch(node.name, 'http://127.0.0.1:30082/'), 'pod-b', 'the node itself still reaches it');
});

test('datapath: without br_netfilter only masquerading everything keeps bridged replies working', {
  skip,
}, async () => {
  sysctl(node.name, 'net/bridge/bridge-nf-call-iptables', '0');
  try {
    await load(false);
    await untilServing();
    assert.match(
      fetch(pods.a.name, 'http://10.98.0.5/'),
      /^failed/,
      'the reply bypasses conntrack over the bridge',
    );
    await load(true);
    assert.equal(fetch(pods.a.name, 'http://10.98.0.5/'), 'pod-b');
    assert.equal(fetch(pods.a.name, 'http://10.98.0.6/'), 'pod-a');
  } finally {
    sysctl(node.name, 'net/bridge/bridge-nf-call-iptables', '1');
  }
});
