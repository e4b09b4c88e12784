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

test('a deleted pod is replaced; a crash-looping Deployment does not hold up another rollout', async () => {
  await c.k('create', 'deployment', 'crashy', '--image=busybox', '--', 'sh', '-c', 'exit 1');
  await c.k('create', 'deployment', 'fine', '--image=busybox', '--replicas=3', '--', 'sleep', '3600');
  await c.k('rollout', 'status', 'deployment/fine', '--timeout=60s');
  const crashing = await until('the crashy pod restarting', async () => {
    const pods = JSON.parse(await c.k('get', 'pods', '-l', 'app=crashy', '-o', 'json')).items;
    const restarts = pods[0]?.status?.containerStatuses?.[0]?.restartCount ?? 0;
    return restarts >= 1 ? pods[0] : undefined;
  });
  assert.ok(crashing, 'crashy restarts');
  const before: string[] = JSON.parse(await c.k('get', 'pods', '-l', 'app=fine', '-o', 'json')).items.map(
    (p: { metadata: { name: string } }) => p.metadata.name,
  );
  const victim = before[0] ?? '';
  await c.k('delete', 'pod', victim, '--wait=false');
  await until('a replacement pod Running', async () => {
    const pods = JSON.parse(await c.k('get', 'pods', '-l', 'app=fine', '-o', 'json')).items as {
      metadata: { name: string; deletionTimestamp?: string };
      status?: { phase?: string };
    }[];
    const running = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
    return running.length === 3 && running.every((p) => p.metadata.name !== victim);
  });
  await c.k('set', 'image', 'deployment/fine', 'busybox=busybox:latest');
  await c.k('rollout', 'status', 'deployment/fine', '--timeout=60s');
  await c.k('delete', 'deployment', 'crashy', 'fine', 'web');
});
