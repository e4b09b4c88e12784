import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import test from 'node:test';
import { type DecodedPacket, decode, encode } from 'dns-packet';
import { FakeClient, InformerFactory, resources } from '../../client/index.ts';
import { silentLogger } from '../../lib/logger.ts';
import { pod, service, slice, summary } from './fake-view.ts';
import { NodeDns } from './node-dns.ts';

function ask(port: number, name: string, type = 'A'): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no reply for ${name}`));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(decode(m));
    });
    s.send(encode({ id: 7, type: 'query', questions: [{ name, type: type as 'A' }] }), port, '127.0.0.1');
  });
}

const rcodeOf = (p: DecodedPacket) => (p as DecodedPacket & { rcode?: string }).rcode;

test('node dns: answers from the informers and follows changes', async (t) => {
  const fake = new FakeClient();
  fake.seed(
    resources.services,
    service('default', 'web', { clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'], ports: [{ port: 80 }] }),
    service('default', 'hl', { clusterIP: 'None' }),
  );
  fake.seed(
    resources.endpointSlices,
    slice('default', 'hl', [{ addresses: ['10.42.0.9'], conditions: { ready: true } }]),
  );
  fake.seed(resources.pods, pod('default', 'hl-1', '10.42.0.9'));
  const informers = new InformerFactory(fake);
  const abort = new AbortController();
  informers.start(abort.signal);
  const dns = await NodeDns.start({
    informers,
    clusterDNS: '127.0.0.1',
    port: 0,
    manageLink: false,
    upstreams: [],
    log: silentLogger(),
  });
  t.after(async () => {
    await dns.stop();
    abort.abort();
    await informers.stop();
  });
  assert.ok(await informers.waitForSync());

  assert.deepEqual(summary((await ask(dns.port, 'web.default.svc.cluster.local')).answers ?? []), [
    'A 10.43.0.20',
  ]);
  assert.deepEqual(summary((await ask(dns.port, 'hl.default.svc.cluster.local')).answers ?? []), [
    'A 10.42.0.9',
  ]);
  assert.deepEqual(summary((await ask(dns.port, '9.0.42.10.in-addr.arpa', 'PTR')).answers ?? []), [
    'PTR 10-42-0-9.default.pod.cluster.local',
  ]);

  await fake.delete(resources.services, 'web', { namespace: 'default' });
  await fake.settle();
  const gone = await ask(dns.port, 'web.default.svc.cluster.local');
  assert.equal(rcodeOf(gone), 'NXDOMAIN');

  // No upstream: names outside the cluster fail, they are not made up.
  assert.equal(rcodeOf(await ask(dns.port, 'example.org')), 'SERVFAIL');
});
