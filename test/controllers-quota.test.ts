import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  HttpClient,
  InformerFactory,
  type KubeObject,
  loadKubeconfig,
  resources,
} from '../src/client/index.ts';
import { type ControllerManager, startControllerManager } from '../src/controllers/manager.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

const ns = 'drv-quota-test';
let server: TestServer;
let client: HttpClient;
let informers: InformerFactory;
let manager: ControllerManager;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function kubectl(args: string[], stdin?: string): Promise<string> {
  const r = await server.kubectl(args, { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function kubectlFails(args: string[], stdin?: string): Promise<string> {
  const r = await server.kubectl(args, { stdin });
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should have failed: ${r.stdout}`);
  return r.stderr.trim();
}

const quotaUsed = async () =>
  (await client.get<KubeObject>(resources.resourceQuotas, 'team', { namespace: ns })).status?.used as
    | Record<string, string>
    | undefined;

before(async () => {
  server = await startServer({ datastore: 'sqlite' });
  client = new HttpClient(await loadKubeconfig(server.kubeconfig));
  informers = new InformerFactory(client);
  // No kubelet, scheduler or workload controllers: pods stay Pending, which is all quota needs.
  manager = startControllerManager({
    client,
    informers,
    log: silentLogger(),
    controllers: ['serviceaccount', 'resourcequota'],
  });
  await kubectl(['create', 'namespace', ns]);
});

after(async () => {
  await manager?.stop();
  await informers?.stop();
  client?.close();
  await server?.stop();
});

test('a new namespace gets a default ServiceAccount, recreated when deleted', async () => {
  await until(
    async () => (await server.kubectl(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    'default sa',
  );
  await kubectl(['-n', ns, 'delete', 'sa', 'default']);
  await until(
    async () => (await server.kubectl(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    'default sa again',
  );
});

test('LimitRange defaults, ResourceQuota usage and upstream refusals', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: ${ns}}
spec:
  limits:
  - type: Container
    default: {cpu: 200m, memory: 64Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "2"}
`,
  );
  await kubectl(['-n', ns, 'create', 'quota', 'team', '--hard=pods=2,requests.cpu=1,requests.memory=1Gi']);
  await until(async () => (await quotaUsed())?.pods === '0', 'quota status computed');

  await kubectl(['-n', ns, 'run', 'small', '--image=busybox']);
  const res = JSON.parse(
    await kubectl(['-n', ns, 'get', 'pod', 'small', '-o', 'jsonpath={.spec.containers[0].resources}']),
  );
  assert.deepEqual(res, {
    limits: { cpu: '200m', memory: '64Mi' },
    requests: { cpu: '100m', memory: '64Mi' },
  });
  assert.deepEqual(await quotaUsed(), { pods: '1', 'requests.cpu': '100m', 'requests.memory': '64Mi' });

  const big = JSON.stringify({
    spec: {
      containers: [
        {
          name: 'big',
          image: 'busybox',
          resources: { requests: { cpu: '2', memory: '64Mi' }, limits: { cpu: '2' } },
        },
      ],
    },
  });
  assert.equal(
    await kubectlFails(['-n', ns, 'run', 'big', '--image=busybox', `--overrides=${big}`]),
    'Error from server (Forbidden): pods "big" is forbidden: exceeded quota: team, requested: requests.cpu=2, used: requests.cpu=100m, limited: requests.cpu=1',
  );
  const huge = big.replaceAll('"2"', '"3"');
  assert.equal(
    await kubectlFails(['-n', ns, 'run', 'huge', '--image=busybox', `--overrides=${huge}`]),
    'Error from server (Forbidden): pods "huge" is forbidden: maximum cpu usage per Container is 2, but limit is 3',
  );

  await kubectl(['-n', ns, 'run', 'second', '--image=busybox']);
  assert.match(
    await kubectlFails(['-n', ns, 'run', 'third', '--image=busybox']),
    /pods "third" is forbidden: exceeded quota: team, requested: pods=1, used: pods=2, limited: pods=2$/,
  );
  assert.match(await kubectl(['-n', ns, 'get', 'quota', 'team']), /pods: 2\/2, requests.cpu: 200m\/1/);

  await kubectl(['-n', ns, 'delete', 'pod', 'small', 'second', '--wait=false']);
  await until(async () => (await quotaUsed())?.pods === '0', 'usage released');
  assert.deepEqual(await quotaUsed(), { pods: '0', 'requests.cpu': '0', 'requests.memory': '0' });
});

test('a Deployment whose selector does not match its template is refused (422)', async () => {
  const r = await server.kubectl(['apply', '-f', '-'], {
    stdin: `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: busybox}]}
`,
  });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"b"\}: `selector` does not match template `labels`/,
  );
  const neg = await server.kubectl([
    '-n',
    ns,
    'create',
    'deployment',
    'neg',
    '--image=busybox',
    '--replicas=-1',
  ]);
  assert.match(neg.stderr, /spec.replicas: Invalid value: -1: must be greater than or equal to 0/);
});

test('concurrent creates over HTTP never pass a quota (compare-and-swap on status.used)', async () => {
  const burst = 'drv-quota-burst';
  await kubectl(['create', 'namespace', burst]);
  await kubectl(['-n', burst, 'create', 'quota', 'three', '--hard=pods=3']);
  await until(async () => {
    const q = await client.get<KubeObject>(resources.resourceQuotas, 'three', { namespace: burst });
    return (q.status?.used as Record<string, string> | undefined)?.pods === '0';
  }, 'quota status computed');
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) =>
      client.create(resources.pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p${i}`, namespace: burst },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  const pods = (await client.list(resources.pods, { namespace: burst })).items;
  assert.equal(pods.length, 3);
  await kubectl(['delete', 'namespace', burst, '--wait=false']);
});
