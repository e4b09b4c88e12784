// The node agent's volumes, init containers, limits and termination against a
// real server, engine and CNI: init containers run first and in order into an
// emptyDir two app containers share; Secrets reach env and a tmpfs volume
// with their modes; a ConfigMap update reaches the mounted file; hostNetwork
// pods get the host's IP; a memory hog under a limit is OOMKilled; a missing
// ConfigMap shows CreateContainerConfigError; deletion sends SIGTERM first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { AgentCluster, statuses, until } from './agent-harness.ts';

const c = new AgentCluster();
before(() => c.start());
after(() => c.stop());

test('init containers run in order before the app; an emptyDir is shared by two containers', async () => {
  await c.apply('init', {
    volumes: [{ name: 'work', emptyDir: {} }],
    initContainers: [
      {
        name: 'first',
        image: 'busybox',
        command: ['sh', '-c', 'echo first >> /work/order'],
        volumeMounts: [{ name: 'work', mountPath: '/work' }],
      },
      {
        name: 'second',
        image: 'busybox',
        command: ['sh', '-c', 'echo second >> /work/order'],
        volumeMounts: [{ name: 'work', mountPath: '/work' }],
      },
    ],
    containers: [
      {
        name: 'writer',
        image: 'busybox',
        command: ['sh', '-c', 'echo app >> /work/order; echo shared > /work/from-writer; exec sleep 3600'],
        volumeMounts: [{ name: 'work', mountPath: '/work' }],
      },
      {
        name: 'reader',
        image: 'busybox',
        command: [
          'sh',
          '-c',
          'until [ -f /data/from-writer ]; do sleep 0.1; done; cat /data/order; exec sleep 3600',
        ],
        volumeMounts: [{ name: 'work', mountPath: '/data' }],
      },
    ],
  });
  const pod = await c.waitPod(
    'init',
    'Running',
    (p) => p.status?.phase === 'Running' && statuses(p).every((s) => s.ready),
  );
  const inits = statuses(pod, true);
  assert.deepEqual(
    inits.map((s) => s.state.terminated?.reason),
    ['Completed', 'Completed'],
  );
  const out = await until('reader output', async () => {
    const logs = await c.logsOf(pod);
    return /first\nsecond\napp/.test(logs) ? logs : undefined;
  });
  assert.match(out, /first\nsecond\napp/);
  assert.equal(pod.status?.conditions?.find((x) => x.type === 'Initialized')?.status, 'True');
  assert.match(await c.kubectl(['get', 'pod', 'init']), /init\s+2\/2\s+Running/);
});

test('an agent restart keeps running pods untouched and re-adopts them', async () => {
  const before = (await c.getPod('init'))!;
  const ids = (await c.containersOf(before.metadata.uid ?? '')).map((x) => x.Id).sort();
  await c.agent?.stop();
  c.agent = c.newAgent();
  await c.agent.start();
  // A sync of the re-adopted pod changes nothing: same containers, no restart, still Ready.
  await new Promise((r) => setTimeout(r, 2500));
  const after = (await c.getPod('init'))!;
  assert.deepEqual((await c.containersOf(after.metadata.uid ?? '')).map((x) => x.Id).sort(), ids);
  assert.deepEqual(
    statuses(after).map((s) => [s.restartCount, s.ready]),
    [
      [0, true],
      [0, true],
    ],
  );
  assert.equal(after.status?.podIP, before.status?.podIP);
});

test('the containers of a pod share one IPC namespace, other pods have their own', async () => {
  const ipcOf = 'readlink /proc/self/ns/ipc';
  await c.apply('ipc', {
    containers: [
      { name: 'a', image: 'busybox', command: ['sh', '-c', `${ipcOf}; exec sleep 3600`] },
      { name: 'b', image: 'busybox', command: ['sh', '-c', `${ipcOf}; exec sleep 3600`] },
    ],
  });
  const pod = await c.waitPod('ipc', 'Running', (p) => p.status?.phase === 'Running');
  const ids = await until('both printed', async () => {
    const m = (await c.logsOf(pod)).match(/ipc:\[\d+\]/g);
    return m && m.length === 2 ? m : undefined;
  });
  assert.equal(ids[0], ids[1]);
  await c.apply('ipc2', {
    containers: [{ name: 'a', image: 'busybox', command: ['sh', '-c', `${ipcOf}; exec sleep 3600`] }],
  });
  const pod2 = await c.waitPod('ipc2', 'Running', (p) => p.status?.phase === 'Running');
  const other = await until(
    'other pod printed',
    async () => (await c.logsOf(pod2)).match(/ipc:\[\d+\]/)?.[0],
  );
  assert.notEqual(other, ids[0]);
  await c.kubectl(['delete', 'pod', 'ipc', 'ipc2', '--timeout=30s']);
});

test('a Secret reaches env and a tmpfs volume with its modes', async () => {
  await c.kubectl([
    'create',
    'secret',
    'generic',
    'creds',
    '--from-literal=password=s3cret',
    '--from-literal=user=admin',
  ]);
  await c.apply('secret', {
    restartPolicy: 'Never',
    volumes: [
      {
        name: 's',
        secret: { secretName: 'creds', defaultMode: 0o400, items: [{ key: 'password', path: 'pw' }] },
      },
    ],
    containers: [
      {
        name: 'check',
        image: 'busybox',
        command: [
          'sh',
          '-xc',
          'test "$PW" = s3cret && test "$(cat /s/pw)" = s3cret && test ! -e /s/user && stat -c %a /s/pw | grep -qx 400 && grep " /s " /proc/mounts | grep -q tmpfs',
        ],
        env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
        volumeMounts: [{ name: 's', mountPath: '/s' }],
      },
    ],
  });
  await c.expectSucceeded('secret');
});

test('downwardAPI and projected volumes', async () => {
  await c.kubectl(['create', 'configmap', 'proj', '--from-literal=color=blue']);
  await c.apply(
    'downward',
    {
      restartPolicy: 'Never',
      volumes: [
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              {
                path: 'mem',
                resourceFieldRef: { containerName: 'check', resource: 'limits.memory', divisor: '1Mi' },
              },
            ],
          },
        },
        {
          name: 'all',
          projected: {
            sources: [
              { configMap: { name: 'proj', items: [{ key: 'color', path: 'cfg/color' }] } },
              { secret: { name: 'creds' } },
              { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
      containers: [
        {
          name: 'check',
          image: 'busybox',
          resources: { limits: { memory: '64Mi' } },
          command: [
            'sh',
            '-xc',
            [
              'test "$(cat /info/name)" = downward',
              'grep -qx \'tier="backend"\' /info/labels',
              'test "$(cat /info/mem)" = 64',
              'test "$(cat /all/cfg/color)" = blue',
              'test "$(cat /all/password)" = s3cret',
              'test "$(cat /all/ns)" = default',
              'grep " /all " /proc/mounts | grep -q tmpfs',
            ].join(' && '),
          ],
          volumeMounts: [
            { name: 'info', mountPath: '/info' },
            { name: 'all', mountPath: '/all' },
          ],
        },
      ],
    },
    { tier: 'backend' },
  );
  await c.expectSucceeded('downward');
});

test('a claim bound to a hostPath volume is mounted; an unbound one waits', async () => {
  const path = `${c.dir}/pv-data`;
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `${c.tag}-pv` },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path },
        claimRef: { namespace: 'default', name: 'data' },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        volumeName: `${c.tag}-pv`,
      },
    },
  ];
  for (const o of objects) await c.kubectl(['apply', '-f', '-'], JSON.stringify(o));
  await c.apply('claim', {
    restartPolicy: 'Never',
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
    containers: [
      {
        name: 'w',
        image: 'busybox',
        command: ['sh', '-c', 'echo persisted > /d/file'],
        volumeMounts: [{ name: 'd', mountPath: '/d' }],
      },
    ],
  });
  await c.expectSucceeded('claim');
  assert.equal(readFileSync(`${path}/file`, 'utf8'), 'persisted\n');
  await c.apply('noclaim', {
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'missing' } }],
    containers: [
      {
        name: 'w',
        image: 'busybox',
        command: ['sleep', '3600'],
        volumeMounts: [{ name: 'd', mountPath: '/d' }],
      },
    ],
  });
  const p = await c.waitPod('noclaim', 'waiting on its claim', (x) =>
    /not found/.test(statuses(x)[0]?.state.waiting?.message ?? ''),
  );
  assert.equal(statuses(p)[0]?.state.waiting?.reason, 'ContainerCreating');
});

test('a ConfigMap update reaches the mounted file of a running pod', async () => {
  await c.kubectl(['create', 'configmap', 'live', '--from-literal=value=one']);
  await c.apply('live', {
    volumes: [{ name: 'cfg', configMap: { name: 'live' } }],
    containers: [
      {
        name: 'watch',
        image: 'busybox',
        command: ['sh', '-c', 'while true; do cat /cfg/value; echo; sleep 0.2; done'],
        volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
      },
    ],
  });
  const pod = await c.waitPod('live', 'Running', (p) => p.status?.phase === 'Running');
  await c.kubectl(['patch', 'configmap', 'live', '-p', '{"data":{"value":"two"}}']);
  // The periodic resync (2 s in tests) rewrites the files.
  await until('updated value in the container', async () => /two/.test(await c.logsOf(pod)), 15_000);
});

test('a hostNetwork pod gets the host IP and the host network', async () => {
  await c.apply('hostnet', {
    hostNetwork: true,
    restartPolicy: 'Never',
    containers: [
      {
        name: 'check',
        image: 'busybox',
        command: ['sh', '-c', 'ip link | grep -q lo && test "$(hostname)" != hostnet'],
      },
    ],
  });
  const pod = await c.expectSucceeded('hostnet');
  assert.equal(pod.status?.podIP, pod.status?.hostIP);
});

test('a memory hog under a limit is OOMKilled', async () => {
  await c.apply('hog', {
    restartPolicy: 'Never',
    containers: [
      {
        name: 'hog',
        image: 'busybox',
        // tail keeps the whole newline-free stream in memory.
        command: ['sh', '-c', 'head -c 200m /dev/zero | tail'],
        resources: { limits: { memory: '32Mi' } },
      },
    ],
  });
  const pod = await c.waitPod(
    'hog',
    'finished',
    (p) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded',
  );
  assert.equal(pod.status?.phase, 'Failed');
  assert.equal(statuses(pod)[0]?.state.terminated?.reason, 'OOMKilled', JSON.stringify(statuses(pod)));
  assert.equal(pod.status?.qosClass, 'Burstable');
});

test('a missing ConfigMap shows CreateContainerConfigError', async () => {
  await c.apply('nocm', {
    containers: [
      {
        name: 'x',
        image: 'busybox',
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k' } } }],
      },
    ],
  });
  const pod = await c.waitPod(
    'nocm',
    'config error',
    (p) => statuses(p)[0]?.state.waiting?.reason === 'CreateContainerConfigError',
  );
  assert.match(statuses(pod)[0]?.state.waiting?.message ?? '', /configmap "absent" not found/);
  assert.match(await c.kubectl(['get', 'pod', 'nocm']), /CreateContainerConfigError/);
});

test('deletion sends SIGTERM first: a pod that handles it goes well before its grace period', async () => {
  await c.apply('graceful', {
    terminationGracePeriodSeconds: 30,
    volumes: [{ name: 'out', hostPath: { path: `${c.dir}/graceful`, type: 'DirectoryOrCreate' } }],
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: [
          'sh',
          '-c',
          "trap 'echo got-term > /out/signal; exit 0' TERM; while true; do sleep 0.1; done",
        ],
        volumeMounts: [{ name: 'out', mountPath: '/out' }],
      },
    ],
  });
  await c.waitPod('graceful', 'Running', (p) => p.status?.phase === 'Running');
  const t0 = Date.now();
  await c.kubectl(['delete', 'pod', 'graceful', '--timeout=60s']);
  assert.ok(Date.now() - t0 < 15_000, `deleted in ${Date.now() - t0} ms`);
  assert.equal(readFileSync(`${c.dir}/graceful/signal`, 'utf8').trim(), 'got-term');
});

test('node pressure evicts BestEffort pods first and reports MemoryPressure', async () => {
  await c.apply('besteffort', {
    containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
  });
  await c.apply('guaranteed', {
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sleep', '3600'],
        resources: { limits: { cpu: '100m', memory: '32Mi' } },
      },
    ],
  });
  for (const n of ['besteffort', 'guaranteed'])
    await c.waitPod(n, 'Running', (p) => p.status?.phase === 'Running');
  await c.agent?.stop();
  // A threshold no machine meets: the node is under memory pressure at once.
  c.agent = c.newAgent({ evictionThresholds: { memoryAvailable: 2 ** 60 }, statusMs: 1500 });
  await c.agent.start();
  // One pod per period: the first to go is the BestEffort one.
  const [be, g] = await until('a pod evicted', async () => {
    const pods = await Promise.all(['besteffort', 'guaranteed'].map((n) => c.getPod(n)));
    return pods.some((p) => p?.status?.phase === 'Failed') ? pods : undefined;
  });
  assert.equal(be?.status?.phase, 'Failed');
  assert.equal(g?.status?.phase, 'Running');
  assert.equal(g?.status?.qosClass, 'Guaranteed');
  assert.equal(be?.status?.reason, 'Evicted');
  assert.match(String(be?.status?.message), /low on resource: memory/);
  await until('MemoryPressure', async () => {
    const node = JSON.parse(await c.kubectl(['get', 'node', c.nodeName, '-o', 'json']));
    return (
      node.status.conditions.find((x: { type: string }) => x.type === 'MemoryPressure').status === 'True'
    );
  });
  await c.agent.stop();
  c.agent = c.newAgent();
  await c.agent.start();
  // Still Failed/Evicted under the next agent (a finished pod never runs again).
  const later = await c.getPod('besteffort');
  assert.equal(later?.status?.phase, 'Failed');
  assert.equal(later?.status?.reason, 'Evicted');
  assert.equal((await c.containersOf(be?.metadata.uid ?? '')).filter((x) => x.State === 'running').length, 0);
});

test('every pod deleted leaves no namespace, address, rule or mount', async () => {
  await c.kubectl(['delete', 'pod', '--all', '--timeout=60s']);
  assert.deepEqual(c.leasesHeld(), []);
  assert.deepEqual(c.leftovers(), []);
  assert.deepEqual(
    await c.engine.listContainers({ all: true, filters: { label: ['io.drover.agent=true'] } }),
    [],
  );
});
