import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Cluster, startCluster, until } from './support/cluster.ts';

let c: Cluster;

before(async () => {
  c = await startCluster({ name: 'aio' });
});

after(async () => {
  const left = await c?.stop();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
});

test('the all-in-one server is a one-node cluster: a Deployment runs as real containers', async () => {
  const node = JSON.parse(await c.k('get', 'node', c.nodeName, '-o', 'json'));
  assert.equal(node.metadata.labels['node-role.kubernetes.io/control-plane'], 'true');
  await c.k('create', 'deployment', 'web', '--image=busybox', '--', 'httpd', '-f', '-p', '8080');
  const ip = await until('a Running web pod with an IP', async () => {
    const pods = JSON.parse(await c.k('get', 'pods', '-l', 'app=web', '-o', 'json')).items;
    const p = pods.find((x: { status?: { phase?: string } }) => x.status?.phase === 'Running');
    return p?.status?.podIP as string | undefined;
  });
  const [, a, b] = /^10\.(\d+)\.(\d+)\.\d+$/.exec(ip) ?? [];
  assert.equal(`10.${a}.0.0/16`, c.clusterCidr, `pod IP ${ip} is outside the cluster CIDR`);
  assert.ok(Number(b) >= 0);
  const ps = c.docker(['ps', '--format', '{{.Names}}']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^k8s_busybox_web-/m);
  const svc = JSON.parse(await c.k('get', 'svc', 'kubernetes', '-o', 'json'));
  assert.equal(svc.spec.clusterIP, c.serviceCidr.replace('.0.0/16', '.0.1'));
});
