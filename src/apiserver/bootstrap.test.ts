import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from '../api/kinds/index.ts';
import { MemoryStore } from '../storage/memory.ts';
import { ServiceAllocator } from './admission/service-allocator.ts';
import { bootstrap, firstServiceIp } from './bootstrap.ts';
import { ObjectStore } from './object-store.ts';
import { TypeRegistry } from './type-registry.ts';

const network = { serviceCidr: '10.77.0.0/16', clusterDNS: '10.77.0.10' };

async function cluster() {
  const store = new MemoryStore();
  const ranges = { serviceCidr: network.serviceCidr, nodePortMin: 30000, nodePortMax: 32767 };
  const objects = new ObjectStore(store, [new ServiceAllocator(store, ranges)]);
  const types = new TypeRegistry(builtinTypes());
  const t = (group: string, plural: string) => {
    const x = types.lookup(group, 'v1', plural);
    if (!x) throw new Error(plural);
    return x;
  };
  return {
    objects,
    types,
    svc: t('', 'services'),
    ep: t('', 'endpoints'),
    slice: t('discovery.k8s.io', 'endpointslices'),
  };
}

test('bootstrap: the kubernetes Service at the first service IP, kube-dns at the cluster DNS IP', async () => {
  const c = await cluster();
  await bootstrap(c.objects, c.types, '192.0.2.2', 6443, network);
  const k = await c.objects.tryGet(c.svc, 'default', 'kubernetes');
  assert.equal(k?.spec?.clusterIP, '10.77.0.1');
  assert.deepEqual(k?.spec?.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
  const dns = await c.objects.tryGet(c.svc, 'kube-system', 'kube-dns');
  assert.equal(dns?.spec?.clusterIP, '10.77.0.10');
  assert.equal(dns?.spec?.selector, undefined);
  assert.equal(dns?.metadata.labels?.['k8s-app'], 'kube-dns');
  const ep = await c.objects.tryGet(c.ep, 'default', 'kubernetes');
  assert.deepEqual(ep?.subsets, [
    { addresses: [{ ip: '192.0.2.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
  ]);
  assert.equal(ep?.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror'], 'true');
  const slice = await c.objects.tryGet(c.slice, 'default', 'kubernetes');
  assert.deepEqual(slice?.endpoints, [{ addresses: ['192.0.2.2'], conditions: { ready: true } }]);
  // Both addresses are taken: no other Service gets them.
  await assert.rejects(
    c.objects.create(c.svc, {
      metadata: { name: 'thief', namespace: 'default' },
      spec: { clusterIP: '10.77.0.10', ports: [{ port: 80 }] },
    }),
    /provided IP is already allocated/,
  );
});

test('bootstrap: a restart on another port and address moves the endpoint and targetPort', async () => {
  const c = await cluster();
  await bootstrap(c.objects, c.types, '192.0.2.2', 6443, network);
  await bootstrap(c.objects, c.types, '192.0.2.3', 7443, network);
  const k = await c.objects.tryGet(c.svc, 'default', 'kubernetes');
  assert.equal(((k?.spec?.ports ?? []) as { targetPort: number }[])[0]?.targetPort, 7443);
  assert.equal(k?.spec?.clusterIP, '10.77.0.1');
  const ep = await c.objects.tryGet(c.ep, 'default', 'kubernetes');
  assert.equal(((ep?.subsets ?? []) as { addresses: { ip: string }[] }[])[0]?.addresses[0]?.ip, '192.0.2.3');
  assert.equal(firstServiceIp('10.43.0.0/16'), '10.43.0.1');
});
