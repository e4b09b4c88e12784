// The node agent against a real `drover server`, a real engine (crun +
// conmon) and the real CNI plugins: pods created with kubectl (bound by
// spec.nodeName) run as engine containers in CNI network namespaces, reach
// each other by pod IP, read env and files from a ConfigMap, crash-loop with
// back-off, report image errors, and leave nothing behind when deleted, also
// when deleted while the agent was down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { AgentCluster, statuses, until } from './agent-harness.ts';

const c = new AgentCluster();
before(() => c.start());
after(() => c.stop());

test('the node registers Ready with a lease, labels and pod CIDR', async () => {
  const node = JSON.parse(await c.kubectl(['get', 'node', c.nodeName, '-o', 'json']));
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], c.nodeName);
  assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
  assert.equal(node.spec.podCIDR, c.podCIDR);
  assert.equal(node.status.capacity.pods, '110');
  assert.equal(node.status.nodeInfo.containerRuntimeVersion, 'drover://0.1.0');
  const ready = node.status.conditions.find((x: { type: string }) => x.type === 'Ready');
  assert.equal(ready.status, 'True');
  const lease = JSON.parse(
    await c.kubectl(['get', 'lease', '-n', 'kube-node-lease', c.nodeName, '-o', 'json']),
  );
  assert.equal(lease.spec.holderIdentity, c.nodeName);
  assert.match(await c.kubectl(['get', 'nodes']), new RegExp(`${c.nodeName}\\s+Ready`));
});

let webIP = '';
test('a pod reaches Running with a pod IP, as engine containers named like the kubelet names them', async () => {
  await c.apply('web', {
    containers: [
      {
        name: 'httpd',
        image: 'busybox',
        command: [
          'sh',
          '-c',
          'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www',
        ],
        ports: [{ containerPort: 8080 }],
      },
    ],
  });
  const pod = await c.waitPod(
    'web',
    'Running with an IP',
    (p) => p.status?.phase === 'Running' && !!p.status.podIP,
  );
  webIP = pod.status?.podIP ?? '';
  assert.ok(webIP.startsWith(c.podCIDR.split('.').slice(0, 3).join('.')), webIP);
  const wide = await c.kubectl(['get', 'pod', 'web', '-o', 'wide']);
  assert.match(
    wide,
    new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${webIP.replaceAll('.', '\\.')}\\s+${c.nodeName}`),
  );
  const cs = await c.containersOf(pod.metadata.uid ?? '');
  assert.equal(cs.length, 1);
  assert.equal(cs[0]?.Names[0], `/k8s_httpd_web_default_${pod.metadata.uid}_0`);
  assert.equal(cs[0]?.Labels['io.kubernetes.container.name'], 'httpd');
  assert.equal(pod.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
});

test('an unchanged pod is not written again by later syncs', async () => {
  const before = (await c.getPod('web'))?.metadata.resourceVersion;
  await new Promise((r) => setTimeout(r, 4500)); // two resync periods of the test agent
  assert.equal((await c.getPod('web'))?.metadata.resourceVersion, before);
});

test('a second pod reaches the first by pod IP', async () => {
  await c.apply('client', {
    restartPolicy: 'Never',
    containers: [
      {
        name: 'wget',
        image: 'busybox',
        // (busybox's wget -T segfaults in Debian's static build: no timeout flag)
        command: [
          'sh',
          '-c',
          `wget -O- http://${webIP}:8080/ 2>&1 | tee /dev/stderr | grep -q hello-from-web`,
        ],
      },
    ],
  });
  const pod = await c.expectSucceeded('client');
  assert.equal(statuses(pod)[0]?.state.terminated?.reason, 'Completed');
});

test('env and files from a ConfigMap; hostname, /etc/hosts and resolv.conf of the pod', async () => {
  await c.kubectl(['create', 'configmap', 'settings', '--from-literal=greeting=hello', '--from-literal=a=1']);
  const checks = [
    'test "$GREETING" = hello',
    'test "$CFG_a" = 1',
    'test "$MY_NAME" = envpod',
    'test "$(cat /cfg/greeting)" = hello',
    'test "$(hostname)" = envpod',
    'grep -q "nameserver 10.43.0.10" /etc/resolv.conf',
    'grep -q "search default.svc.cluster.local svc.cluster.local cluster.local" /etc/resolv.conf',
    'grep -q "ndots:5" /etc/resolv.conf',
    'grep -q "envpod" /etc/hosts',
  ].join(' && ');
  await c.apply('envpod', {
    restartPolicy: 'Never',
    volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
    containers: [
      {
        name: 'check',
        image: 'busybox',
        command: ['sh', '-xc', checks],
        env: [
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }],
        volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
      },
    ],
  });
  await c.expectSucceeded('envpod');
});

test('a crashing container restarts with back-off and shows CrashLoopBackOff', async () => {
  await c.apply('crash', {
    containers: [{ name: 'fail', image: 'busybox', command: ['sh', '-c', 'exit 1'] }],
  });
  const pod = await c.waitPod(
    'crash',
    'CrashLoopBackOff after restarts',
    (p) => {
      const s = statuses(p)[0];
      return !!s && s.restartCount >= 2 && s.state.waiting?.reason === 'CrashLoopBackOff';
    },
    40_000,
  );
  assert.equal(pod.status?.phase, 'Running');
  const s = statuses(pod)[0];
  assert.match(s?.state.waiting?.message ?? '', /back-off \d+s restarting failed container=fail/);
  assert.equal(s?.lastState.terminated?.exitCode, 1);
  assert.match(await c.kubectl(['get', 'pod', 'crash']), /crash\s+0\/1\s+CrashLoopBackOff\s+\d/);
  const cs = await c.containersOf(pod.metadata.uid ?? '');
  assert.ok(cs.length <= 2, `old attempts are pruned: ${cs.length}`);
  const events = await until('kubelet events', async () => {
    const out = await c.kubectl([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=crash',
      '-o',
      'json',
    ]);
    const reasons = (JSON.parse(out).items as { reason: string }[]).map((e) => e.reason);
    return reasons.includes('BackOff') && reasons.includes('Started') ? reasons : undefined;
  });
  assert.ok(events.includes('Created'), events.join());
});

test('a missing image shows ErrImagePull / ImagePullBackOff', async () => {
  await c.apply('noimage', { containers: [{ name: 'x', image: 'no-such-image:1' }] });
  const pod = await c.waitPod('noimage', 'image error', (p) =>
    ['ErrImagePull', 'ImagePullBackOff'].includes(statuses(p)[0]?.state.waiting?.reason ?? ''),
  );
  assert.equal(pod.status?.phase, 'Pending');
  assert.match(statuses(pod)[0]?.state.waiting?.message ?? '', /no-such-image/);
});

test('a hostPort reaches the pod from the host (portmap)', async () => {
  const port = 31000 + Math.floor(Math.random() * 1000);
  await c.apply('hp', {
    containers: [
      {
        name: 'httpd',
        image: 'busybox',
        command: [
          'sh',
          '-c',
          'mkdir -p /www && echo via-host-port > /www/index.html && exec httpd -f -p 80 -h /www',
        ],
        ports: [{ containerPort: 80, hostPort: port }],
      },
    ],
  });
  const pod = await c.waitPod('hp', 'Running', (p) => p.status?.phase === 'Running');
  const body = await until('answer on the host port', async () => {
    const r = await fetch(`http://${pod.status?.hostIP}:${port}/`).catch(() => undefined);
    return r?.ok ? r.text() : undefined;
  });
  assert.equal(body.trim(), 'via-host-port');
  await c.kubectl(['delete', 'pod', 'hp', '--timeout=30s']);
  const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(nat, new RegExp(`dport ${port}\\b`), 'the DNAT rule went with the pod');
});

test('kubectl delete pod returns once containers, namespace and address are gone', async () => {
  const pod = (await c.getPod('web'))!;
  const uid = pod.metadata.uid ?? '';
  assert.ok(c.netnsOf(uid));
  assert.ok(c.leasesHeld().includes(webIP));
  await c.kubectl(['delete', 'pod', 'web', '--timeout=30s']);
  assert.equal(await c.getPod('web'), undefined);
  assert.equal((await c.containersOf(uid)).length, 0);
  assert.equal(c.netnsOf(uid), false);
  assert.equal(c.leasesHeld().includes(webIP), false);
});

test('pods deleted while the agent is down are cleaned up when it starts', async () => {
  const crash = (await c.getPod('crash'))!;
  const uid = crash.metadata.uid ?? '';
  await c.agent?.stop();
  c.agent = undefined;
  await c.kubectl(['delete', 'pod', 'crash', '--force', '--grace-period=0']);
  assert.ok(c.netnsOf(uid), 'the namespace outlives the stopped agent');
  c.agent = c.newAgent();
  await c.agent.start();
  assert.equal((await c.containersOf(uid)).length, 0);
  assert.equal(c.netnsOf(uid), false);
  // The other pods are still handled by the new agent.
  await c.kubectl(['delete', 'pod', 'noimage', 'client', 'envpod', '--timeout=30s']);
  assert.deepEqual(c.leasesHeld(), []);
  assert.deepEqual(c.leftovers(), []);
});
