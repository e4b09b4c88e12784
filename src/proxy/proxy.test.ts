import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClient, type Node, resources } from '../client/index.ts';
import { InvalidError } from '../lib/errors.ts';
import { silentLogger } from '../lib/logger.ts';
import { canUseNetns, service, slice, testNetns } from './fixtures.ts';
import { listTable, nftRunner, tableExists } from './nft.ts';
import { type AppliedInfo, ServiceProxy } from './proxy.ts';
import type { EndpointSlice, Service } from './types.ts';

const skip = !canUseNetns && 'needs root (network namespace, nftables)';
let ns = { name: '', remove() {} };
before(() => {
  if (canUseNetns) ns = testNetns('proxy');
});
after(() => ns.remove());

const node: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1' },
  status: { addresses: [{ type: 'InternalIP', address: '192.0.2.7' }] },
};

function seeded(): FakeClient {
  const client = new FakeClient();
  client.seed(resources.nodes, node);
  client.seed(
    resources.services,
    service('web', {
      clusterIP: '10.43.0.5',
      type: 'NodePort',
      ports: [{ name: 'http', port: 80, nodePort: 30080 }],
    }),
    service('api', { clusterIP: '10.43.0.6', sessionAffinity: 'ClientIP' }),
    service('empty', { clusterIP: '10.43.0.7' }),
    service('lb', {
      clusterIP: '10.43.0.8',
      type: 'LoadBalancer',
      ports: [{ name: 'http', port: 8081, nodePort: 30081 }],
    }),
  );
  client.seed(
    resources.endpointSlices,
    slice('web', [
      { ip: '10.42.0.5', node: 'n1' },
      { ip: '10.42.0.6', node: 'n2' },
    ]),
    slice('api', [{ ip: '10.42.0.8' }, { ip: '10.42.0.9' }]),
    slice('lb', [{ ip: '10.42.0.10' }]),
  );
  return client;
}

function proxyOver(
  client: FakeClient,
  table: string,
  extra: Partial<ConstructorParameters<typeof ServiceProxy>[0]> = {},
) {
  const applied: AppliedInfo[] = [];
  const proxy = new ServiceProxy({
    client,
    nodeName: 'n1',
    table,
    nft: { netns: ns.name },
    skipHostSetup: true,
    log: silentLogger(),
    onApplied: (i) => applied.push(i),
    ...extra,
  });
  return { proxy, applied };
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The listing as a sorted bag of tokens (element order in a listing is the kernel's hash order). */
const normalized = (s: string) =>
  s
    .split(/[\n,{}]/)
    .map((x) => x.trim())
    .filter(Boolean)
    .sort();

test('proxy: follows Services and slices incrementally; the result equals a full write', {
  skip,
}, async () => {
  const client = seeded();
  const table = 'drv-proxy-follow';
  const { proxy, applied } = proxyOver(client, table);
  const opts = { netns: ns.name };
  try {
    await proxy.start();
    assert.equal(applied[0]?.mode, 'recreate');
    let text = await listTable(table, opts);
    assert.match(text, /numgen random mod 2 map \{ 0 : 10\.42\.0\.5 \. 8080, 1 : 10\.42\.0\.6 \. 8080 \}/);
    assert.match(text, /10\.43\.0\.7 \. tcp \. 80 : goto reject-chain/);
    assert.match(text, /tcp \. 8081 : goto service-default\/lb\/tcp\/http/);

    // One endpoint stops being ready: only web's chains are rewritten.
    const s = client.peek<EndpointSlice>(resources.endpointSlices, 'default/web-abc');
    assert.ok(s);
    const next = structuredClone(s);
    (next.endpoints ?? [])[1] = { addresses: ['10.42.0.6'], conditions: { ready: false }, nodeName: 'n2' };
    await client.update(resources.endpointSlices, next);
    await until('the endpoint change', async () =>
      (await listTable(table, opts)).includes('dnat to 10.42.0.5:8080'),
    );
    const inc = applied.at(-1);
    assert.equal(inc?.mode, 'incremental');
    assert.equal(inc?.services, 1);

    // A Service goes: its chains and affinity sets go with it.
    await client.delete(resources.services, 'api', { namespace: 'default' });
    await until(
      'the Service removal',
      async () => !(await listTable(table, opts)).includes('affinity-default/api'),
    );
    text = await listTable(table, opts);
    assert.doesNotMatch(text, /10\.43\.0\.6/);

    // A fresh full write gives the same table.
    const second = proxyOver(client, table).proxy;
    await second.start();
    const full = await listTable(table, opts);
    await second.stop();
    assert.deepEqual(normalized(text), normalized(full));

    // status.loadBalancer lists the node's address.
    await until('load balancer status', () => {
      const lb = client.peek<Service>(resources.services, 'default/lb');
      return lb?.status?.loadBalancer?.ingress?.[0]?.ip === '192.0.2.7';
    });
  } finally {
    await proxy.stop();
  }
  assert.equal(await tableExists(table, opts), false, 'stop removes the table');
});

test('proxy: a failed transaction changes nothing and the next sync rewrites everything', {
  skip,
}, async () => {
  const client = seeded();
  const table = 'drv-proxy-retry';
  const real = nftRunner({ netns: ns.name });
  let failures = 0;
  const { proxy, applied } = proxyOver(client, table, {
    runner: async (script) => {
      if (failures > 0) {
        failures--;
        throw new InvalidError('applying nftables rules: injected failure');
      }
      await real(script);
    },
  });
  const opts = { netns: ns.name };
  try {
    await proxy.start();
    await until('status writes settled', async () => {
      await proxy.idle();
      return !!client.peek<Service>(resources.services, 'default/lb')?.status?.loadBalancer;
    });
    await proxy.idle();
    const before = await listTable(table, opts);
    const seen = applied.length;
    failures = 1;
    await client.delete(resources.services, 'web', { namespace: 'default' });
    await until('the retry', () => applied.length > seen, 5000);
    assert.equal(failures, 0, 'the first attempt failed');
    assert.equal(applied[seen]?.mode, 'recreate', 'the retry recreates the table');
    assert.notEqual(before, await listTable(table, opts));
    assert.doesNotMatch(await listTable(table, opts), /10\.43\.0\.5/);
  } finally {
    await proxy.stop();
  }
});

test('proxy: a script the kernel refuses is not half-applied', { skip }, async () => {
  const run = nftRunner({ netns: ns.name });
  const table = 'drv-proxy-atomic';
  await run(`add table ip ${table}\nadd chain ip ${table} a\nadd rule ip ${table} a accept\n`);
  await assert.rejects(
    run(`flush chain ip ${table} a\nadd chain ip ${table} b\nadd rule ip ${table} nosuch accept\n`),
    InvalidError,
  );
  const text = await listTable(table, { netns: ns.name });
  assert.match(text, /accept/);
  assert.doesNotMatch(text, /chain b/);
  await run(`delete table ip ${table}\n`);
});

test('proxy: start does not hang when nft keeps failing', { skip }, async () => {
  const client = seeded();
  let calls = 0;
  const { proxy, applied } = proxyOver(client, 'drv-proxy-broken', {
    runner: async () => {
      calls++;
      throw new InvalidError('applying nftables rules: injected failure');
    },
  });
  await proxy.start();
  assert.equal(applied.length, 0);
  assert.ok(calls >= 1);
  await proxy.stop();
});

test('proxy: a backend shared by two Services keeps its hairpin element until both are gone', {
  skip,
}, async () => {
  const client = new FakeClient();
  client.seed(
    resources.services,
    service('a', { clusterIP: '10.43.0.21' }),
    service('b', { clusterIP: '10.43.0.22' }),
  );
  client.seed(
    resources.endpointSlices,
    slice('a', [{ ip: '10.42.0.30' }]),
    slice('b', [{ ip: '10.42.0.30' }]),
  );
  const table = 'drv-proxy-hairpin';
  const { proxy } = proxyOver(client, table);
  const opts = { netns: ns.name };
  const hasPair = async () => (await listTable(table, opts)).includes('10.42.0.30 . 10.42.0.30');
  try {
    await proxy.start();
    assert.ok(await hasPair());
    await client.delete(resources.services, 'a', { namespace: 'default' });
    await until('a gone', async () => !(await listTable(table, opts)).includes('10.43.0.21'));
    assert.ok(await hasPair(), 'b still uses the address');
    await client.delete(resources.services, 'b', { namespace: 'default' });
    await until('the hairpin element gone', async () => !(await hasPair()));
  } finally {
    await proxy.stop();
  }
});

test('proxy: stopping removes the table, starting again restores it', { skip }, async () => {
  const client = seeded();
  const table = 'drv-proxy-restart';
  const opts = { netns: ns.name };
  const first = proxyOver(client, table).proxy;
  await first.start();
  const before = await listTable(table, opts);
  await first.stop();
  assert.equal(await tableExists(table, opts), false);
  const second = proxyOver(client, table).proxy;
  try {
    await second.start();
    assert.deepEqual(normalized(await listTable(table, opts)), normalized(before));
  } finally {
    await second.stop();
  }
});
