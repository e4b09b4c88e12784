/**
 * Endpoints and EndpointSlices with real pods and real kubectl on the
 * all-in-one cluster: a Deployment exposed by `kubectl expose`, pods going
 * not-ready, ready and away (each change visible within a second), Service
 * input the API rejects, the bootstrap Services, LoadBalancer status, and the
 * `kubernetes` Service's endpoint reached from a pod.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type KubeObject, type Pod, resources } from '../src/client/index.ts';
import type { EndpointSlice } from '../src/controllers/endpoint-slice-plan.ts';
import type { Endpoints } from '../src/controllers/endpoints.ts';
import { type Cluster, startCluster, until } from './support/cluster.ts';

let c: Cluster;

before(async () => {
  c = await startCluster({ name: 'sep' });
});

after(async () => {
  const left = await c?.stop();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
});

/** Polls fast (10 ms) for latency measurements; returns the time the condition first held. */
async function within<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | undefined | false>,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await fn()) return Date.now();
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms\n${c.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const endpoints = () => c.client.get<Endpoints>(resources.endpoints, 'web', { namespace: 'default' });
const slices = async () =>
  (
    await c.client.list<EndpointSlice>(resources.endpointSlices, {
      namespace: 'default',
      labelSelector: 'kubernetes.io/service-name=web',
    })
  ).items;
const sliceEndpoint = async (ip: string) =>
  (await slices()).flatMap((s) => s.endpoints ?? []).find((e) => e.addresses[0] === ip);
const ready = (e: Endpoints) => (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
const notReady = (e: Endpoints) =>
  (e.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip));
const podReady = (p: Pod) => p.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';

async function webPods(): Promise<Pod[]> {
  return (await c.client.list<Pod>(resources.pods, { namespace: 'default', labelSelector: 'app=web' })).items;
}

test('kubectl expose: endpoints and slices follow pods going not-ready, ready and away within a second', async () => {
  // kubectl create deployment, with a readiness probe on a file the test removes and restores.
  const manifest = JSON.parse(
    await c.k(
      'create',
      'deployment',
      'web',
      '--image=busybox',
      '--replicas=3',
      '--dry-run=client',
      '-o',
      'json',
      '--',
      'sh',
      '-c',
      'touch /tmp/ready; exec httpd -f -p 8080',
    ),
  );
  manifest.spec.template.spec.containers[0].readinessProbe = {
    exec: { command: ['cat', '/tmp/ready'] },
    periodSeconds: 1,
    failureThreshold: 1,
  };
  manifest.spec.template.spec.containers[0].ports = [{ name: 'http', containerPort: 8080 }];
  const apply = await c.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
  assert.equal(apply.code, 0, apply.stderr);
  await c.k('expose', 'deployment', 'web', '--port=80', '--target-port=http');

  const pods = await until(
    'three ready web pods in the Endpoints',
    async () => {
      const ps = (await webPods()).filter((p) => podReady(p) && p.status?.podIP);
      if (ps.length < 3) return undefined;
      const e = await endpoints().catch(() => undefined);
      return e && ready(e).length === 3 ? ps : undefined;
    },
    60_000,
  );
  const [a, b] = pods;
  assert.ok(a?.status?.podIP && b?.status?.podIP);
  const ipA = a.status.podIP;
  const ipB = b.status.podIP;

  const shown = await c.k('get', 'endpoints,endpointslices', '-l', 'app=web');
  assert.match(shown, new RegExp(`endpoints/web\\s+.*${ipA.replace(/\./g, '\\.')}:8080`));
  assert.match(shown, /endpointslice\.discovery\.k8s\.io\/web-\w+\s+IPv4\s+8080\s/);
  const slice = (await slices())[0];
  assert.equal(
    slice?.metadata.labels?.['endpointslice.kubernetes.io/managed-by'],
    'endpointslice-controller.k8s.io',
  );
  assert.deepEqual(slice?.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
  assert.equal(slice?.metadata.ownerReferences?.[0]?.kind, 'Service');

  // Not ready: the probe fails once its file is gone.
  await c.k('exec', a.metadata.name ?? '', '--', 'rm', '/tmp/ready');
  const notReadyAt = await within('pod A reported not ready', 10_000, async () => {
    const p = await c.client.get<Pod>(resources.pods, a.metadata.name ?? '', { namespace: 'default' });
    return !podReady(p);
  });
  const sliceAt = await within('slice shows pod A not ready', 1000, async () => {
    const e = await sliceEndpoint(ipA);
    return e && !e.conditions.ready && !e.conditions.serving && !e.conditions.terminating;
  });
  await within('Endpoints list pod A as not ready', 1000, async () =>
    notReady(await endpoints()).includes(ipA),
  );
  console.log(`# not-ready → slice: ${sliceAt - notReadyAt} ms (10 ms polling)`);

  // Ready again.
  await c.k('exec', a.metadata.name ?? '', '--', 'touch', '/tmp/ready');
  await within('pod A ready again in slice and Endpoints', 10_000, async () => {
    const e = await sliceEndpoint(ipA);
    return e?.conditions.ready && ready(await endpoints()).includes(ipA);
  });

  // Deleted: at once terminating in the slice, gone from Endpoints.
  const deletedAt = Date.now();
  await c.client.delete(resources.pods, b.metadata.name ?? '', { namespace: 'default' });
  const goneAt = await within('pod B out of Endpoints, terminating in its slice', 1000, async () => {
    const e = await sliceEndpoint(ipB);
    const eps = await endpoints();
    return (
      (!e || (e.conditions.terminating && !e.conditions.ready)) &&
      ![...ready(eps), ...notReady(eps)].includes(ipB)
    );
  });
  console.log(`# delete → endpoints: ${goneAt - deletedAt} ms`);
});

test('a selector matching nothing: Endpoints without addresses and an empty slice', async () => {
  await c.k('create', 'service', 'clusterip', 'lonely', '--tcp=80:8080');
  const row = await until('the lonely Endpoints', async () => {
    const r = await c.kubectl(['get', 'endpoints', 'lonely', '--no-headers']);
    return r.code === 0 ? r.stdout : undefined;
  });
  assert.match(row, /^lonely\s+<none>/);
  await until('the placeholder slice', async () => {
    const items = (
      await c.client.list<EndpointSlice>(resources.endpointSlices, {
        namespace: 'default',
        labelSelector: 'kubernetes.io/service-name=lonely',
      })
    ).items;
    return items.length === 1 && (items[0]?.endpoints ?? []).length === 0;
  });
});

test('bad Service input gets Invalid through kubectl', async () => {
  const cases: { args?: string[]; yaml?: KubeObject; want: RegExp }[] = [
    {
      args: ['create', 'service', 'nodeport', 'np-range', '--tcp=80:8080', '--node-port=40000'],
      want: /Service "np-range" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 40000: provided port is not in the valid range/,
    },
    {
      yaml: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'port-range' },
        spec: { ports: [{ port: 70000 }] },
      },
      want: /spec\.ports\[0\]\.port: Invalid value: 70000: must be between 1 and 65535, inclusive/,
    },
    {
      yaml: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dup' },
        spec: {
          selector: { app: 'web' },
          ports: [
            { name: 'a', port: 80 },
            { name: 'a', port: 80 },
          ],
        },
      },
      want: /\* spec\.ports\[1\]\.name: Duplicate value: "a"\n\* spec\.ports\[1\]: Duplicate value: core\.ServicePort\{/,
    },
    {
      yaml: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'noname' },
        spec: { ports: [{ port: 80 }, { port: 81 }] },
      },
      want: /spec\.ports\[0\]\.name: Required value/,
    },
    {
      yaml: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'ext' },
        spec: { type: 'ExternalName', externalName: 'not_a_name' },
      },
      want: /spec\.externalName: Invalid value: "not_a_name"/,
    },
    {
      yaml: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'far-ip' },
        spec: { clusterIP: '192.0.2.200', ports: [{ port: 80 }] },
      },
      want: /spec\.clusterIPs: Invalid value: \[\]string\{"192\.0\.2\.200"\}: failed to allocate IP 192\.0\.2\.200: the provided IP \(192\.0\.2\.200\) is not in the valid range/,
    },
  ];
  for (const tc of cases) {
    const res = tc.args
      ? await c.kubectl(tc.args)
      : await c.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(tc.yaml) });
    assert.notEqual(res.code, 0, `${JSON.stringify(tc.args ?? tc.yaml)} was accepted`);
    assert.match(res.stderr, tc.want);
  }
  // A node port in use.
  await c.k('create', 'service', 'nodeport', 'np-one', '--tcp=80:8080', '--node-port=30555');
  const taken = await c.kubectl([
    'create',
    'service',
    'nodeport',
    'np-two',
    '--tcp=80:8080',
    '--node-port=30555',
  ]);
  assert.match(
    taken.stderr,
    /spec\.ports\[0\]\.nodePort: Invalid value: 30555: provided port is already allocated/,
  );
  // The cluster IP taken by the kubernetes Service.
  const first = c.serviceCidr.replace('.0.0/16', '.0.1');
  const ipTaken = await c.kubectl([
    'create',
    'service',
    'clusterip',
    'ip-two',
    '--tcp=80',
    `--clusterip=${first}`,
  ]);
  assert.match(ipTaken.stderr, /provided IP is already allocated/);
  // NodePort → ClusterIP: the node port is dropped and freed for another Service.
  await c.k('patch', 'service', 'np-one', '-p', '{"spec":{"type":"ClusterIP"}}');
  await c.k('create', 'service', 'nodeport', 'np-three', '--tcp=80:8080', '--node-port=30555');
});

test('bootstrap Services: kubernetes (endpoint at the advertise address) and kube-dns at the cluster DNS IP', async () => {
  const dns = JSON.parse(await c.k('get', 'service', 'kube-dns', '-n', 'kube-system', '-o', 'json'));
  assert.equal(dns.spec.clusterIP, c.clusterDNS);
  assert.deepEqual(
    dns.spec.ports.map(
      (p: { name: string; port: number; protocol: string }) => `${p.name} ${p.port}/${p.protocol}`,
    ),
    ['dns 53/UDP', 'dns-tcp 53/TCP'],
  );
  assert.equal(dns.spec.selector, undefined);
  const svc = JSON.parse(await c.k('get', 'service', 'kubernetes', '-o', 'json'));
  assert.equal(svc.spec.clusterIP, c.serviceCidr.replace('.0.0/16', '.0.1'));
  const ep = JSON.parse(await c.k('get', 'endpoints', 'kubernetes', '-o', 'json'));
  const ip = ep.subsets[0].addresses[0].ip as string;
  const port = ep.subsets[0].ports[0].port as number;
  assert.notEqual(ip, '127.0.0.1', 'pods cannot reach the host loopback');
  assert.equal(port, Number(new URL(c.url).port));
  const slice = JSON.parse(await c.k('get', 'endpointslice', 'kubernetes', '-o', 'json'));
  assert.deepEqual(slice.endpoints[0].addresses, [ip]);

  // From a pod, with busybox's wget: the endpoint itself, and the ClusterIP through the node's proxy.
  await c.k('run', 'apicheck', '--image=busybox', '--restart=Never', '--', 'sleep', '3600');
  await until('the apicheck pod running', async () => {
    const p = await c.client.get<Pod>(resources.pods, 'apicheck', { namespace: 'default' });
    return p.status?.phase === 'Running';
  });
  // (No -T: busybox 1.35's wget segfaults when a timeout is combined with its TLS client.)
  const wget = (url: string) =>
    c.kubectl(['exec', 'apicheck', '--', 'wget', '--no-check-certificate', '-qO-', url]);
  const direct = await wget(`https://${ip}:${port}/version`);
  assert.match(direct.stdout, /"gitVersion"/, `endpoint from a pod: ${direct.stderr}`);
  const viaService = await wget(`https://${svc.spec.clusterIP}/version`);
  assert.match(viaService.stdout, /"gitVersion"/, `ClusterIP from a pod: ${viaService.stderr}`);
  await c.k('delete', 'pod', 'apicheck', '--grace-period=0', '--force');
});

test('LoadBalancer: status lists the node address, as k3s servicelb does', async () => {
  await c.k(
    'expose',
    'deployment',
    'web',
    '--name=web-lb',
    '--type=LoadBalancer',
    '--port=8081',
    '--target-port=8080',
  );
  const node = JSON.parse(await c.k('get', 'node', c.nodeName, '-o', 'json'));
  const internal = node.status.addresses.find((x: { type: string }) => x.type === 'InternalIP')
    .address as string;
  const row = await until('web-lb EXTERNAL-IP', async () => {
    const out = await c.k('get', 'svc', 'web-lb', '--no-headers');
    return out.includes('<pending>') ? undefined : out;
  });
  assert.match(
    row,
    new RegExp(`LoadBalancer\\s+\\S+\\s+${internal.replace(/\./g, '\\.')}\\s+8081:3\\d+/TCP`),
  );
});
