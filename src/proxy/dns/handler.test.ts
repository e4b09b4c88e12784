import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';
import {
  AUTHORITATIVE_ANSWER,
  decode,
  encode,
  type OptAnswer,
  type Packet,
  RECURSION_DESIRED,
} from 'dns-packet';
import { silentLogger } from '../../lib/logger.ts';
import { emptyCluster, sampleCluster, service, slice, summary } from './fake-view.ts';
import type { Forwarded } from './forwarder.ts';
import { DnsHandler } from './handler.ts';
import { ClusterZone } from './zone.ts';

const cluster = sampleCluster();
// A headless Service with 40 endpoints: ~2 KB of A records, past every UDP limit.
cluster.services.set({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name: 'big' },
  spec: { clusterIP: 'None' },
});
cluster.slices.set(
  slice(
    'default',
    'big',
    Array.from({ length: 40 }, (_, i) => ({ addresses: [`10.42.1.${i + 1}`], conditions: { ready: true } })),
  ),
);
// 12 endpoints: ~700 bytes, over 512 but within EDNS 1232.
cluster.services.set({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name: 'mid' },
  spec: { clusterIP: 'None' },
});
cluster.slices.set(
  slice(
    'default',
    'mid',
    Array.from({ length: 12 }, (_, i) => ({ addresses: [`10.42.2.${i + 1}`], conditions: { ready: true } })),
  ),
);

const forwarded: string[] = [];
const forwarder = {
  async resolve(name: string, type: string): Promise<Forwarded> {
    forwarded.push(`${name} ${type}`);
    if (name.toLowerCase() === 'example.org')
      return {
        rcode: 'NOERROR',
        answers: [{ name, type: 'A', ttl: 300, data: '192.0.2.7' }],
        authorities: [],
        additionals: [],
      };
    return { rcode: 'NXDOMAIN', answers: [], authorities: [], additionals: [] };
  },
};
const zone = new ClusterZone({ view: cluster.view, domain: 'cluster.local', clusterDNS: '10.43.0.10' });
const handler = new DnsHandler({ zone, forwarder, log: silentLogger() });

function opt(size: number, version = 0): OptAnswer {
  return {
    name: '.',
    type: 'OPT',
    udpPayloadSize: size,
    extendedRcode: 0,
    ednsVersion: version,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

function query(name: string, type = 'A', extra: Partial<Packet> = {}): Buffer {
  return encode({
    id: 4242,
    type: 'query',
    flags: RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    ...extra,
  });
}

async function ask(msg: Buffer, transport: 'udp' | 'tcp' = 'udp') {
  const out = await handler.handle(msg, transport);
  assert.ok(out, 'a reply');
  const p = decode(out);
  return { p, rcode: out.readUInt8(3) & 0x0f, flags: out.readUInt16BE(2), size: out.length };
}

test('handler: answers a cluster name authoritatively, echoing ID, question and RD', async () => {
  const { p, rcode, flags } = await ask(query('Web.Default.Svc.Cluster.Local'));
  assert.equal(p.id, 4242);
  assert.equal(p.type, 'response');
  assert.equal(rcode, 0);
  assert.ok(flags & AUTHORITATIVE_ANSWER);
  assert.ok(p.flag_rd && p.flag_ra);
  assert.equal(p.questions?.[0]?.name, 'Web.Default.Svc.Cluster.Local');
  assert.deepEqual(summary(p.answers ?? []), ['A 10.43.0.20']);
});

test('handler: NXDOMAIN and NODATA carry the SOA', async () => {
  const nx = await ask(query('nope.default.svc.cluster.local'));
  assert.equal(nx.rcode, 3);
  assert.deepEqual(summary(nx.p.authorities ?? []), ['SOA ns.dns.cluster.local']);
  const nodata = await ask(query('web.default.svc.cluster.local', 'AAAA'));
  assert.equal(nodata.rcode, 0);
  assert.deepEqual(nodata.p.answers, []);
  assert.deepEqual(summary(nodata.p.authorities ?? []), ['SOA ns.dns.cluster.local']);
});

test('handler: other names go to the forwarder, not authoritative', async () => {
  const { p, rcode, flags } = await ask(query('example.org'));
  assert.equal(rcode, 0);
  assert.equal(flags & AUTHORITATIVE_ANSWER, 0);
  assert.deepEqual(summary(p.answers ?? []), ['A 192.0.2.7']);
});

test('handler: an ExternalName CNAME is followed through the forwarder', async () => {
  const { p, rcode } = await ask(query('ext.default.svc.cluster.local'));
  assert.equal(rcode, 0);
  assert.deepEqual(summary(p.answers ?? []), ['A 192.0.2.7', 'CNAME example.org']);
});

test('handler: EDNS gets an OPT back; a bigger answer fits within the EDNS size', async () => {
  const plain = await ask(query('mid.default.svc.cluster.local'));
  assert.ok(plain.p.flag_tc, 'over 512 bytes without EDNS: truncated');
  assert.deepEqual(plain.p.answers, []);
  const edns = await ask(query('mid.default.svc.cluster.local', 'A', { additionals: [opt(1232)] }));
  assert.ok(!edns.p.flag_tc);
  assert.equal(edns.p.answers?.length, 12);
  const o = edns.p.additionals?.find((a) => a.type === 'OPT') as OptAnswer | undefined;
  assert.equal(o?.udpPayloadSize, 1232);
});

test('handler: truncation over UDP, whole answer over TCP', async () => {
  const udp = await ask(query('big.default.svc.cluster.local', 'A', { additionals: [opt(4096)] }));
  assert.ok(udp.p.flag_tc);
  assert.ok(udp.size <= 1232);
  const tcp = await ask(query('big.default.svc.cluster.local'), 'tcp');
  assert.ok(!tcp.p.flag_tc);
  assert.equal(tcp.p.answers?.length, 40);
});

const bad: { name: string; msg: () => Buffer; rcode?: number; dropped?: boolean }[] = [
  { name: 'shorter than a header is dropped', msg: () => Buffer.from([1, 2, 3]), dropped: true },
  {
    name: 'a response is dropped',
    msg: () => encode({ id: 1, type: 'response', questions: [{ name: 'a', type: 'A' }] }),
    dropped: true,
  },
  {
    name: 'garbage after a header is FORMERR',
    msg: () => Buffer.concat([query('a').subarray(0, 12), randomBytes(7)]),
    rcode: 1,
  },
  {
    name: 'two questions are FORMERR',
    msg: () =>
      encode({
        id: 1,
        type: 'query',
        questions: [
          { name: 'a.default.svc.cluster.local', type: 'A' },
          { name: 'b.default.svc.cluster.local', type: 'A' },
        ],
      }),
    rcode: 1,
  },
  { name: 'no question is FORMERR', msg: () => encode({ id: 1, type: 'query', questions: [] }), rcode: 1 },
  {
    name: 'two OPT records are FORMERR',
    msg: () => query('web.default.svc.cluster.local', 'A', { additionals: [opt(1232), opt(512)] }),
    rcode: 1,
  },
  {
    name: 'a huge query is FORMERR',
    msg: () => Buffer.concat([query('web.default.svc.cluster.local'), Buffer.alloc(5000)]),
    rcode: 1,
  },
  {
    name: 'opcode STATUS is NOTIMP',
    msg: () => encode({ id: 1, type: 'query', flags: 2 << 11, questions: [{ name: 'a', type: 'A' }] }),
    rcode: 4,
  },
  {
    name: 'class CH is REFUSED',
    msg: () =>
      encode({ id: 1, type: 'query', questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] }),
    rcode: 5,
  },
  { name: 'AXFR is REFUSED', msg: () => query('cluster.local', 'AXFR'), rcode: 5 },
];

for (const tc of bad)
  test(`handler: ${tc.name}`, async () => {
    const msg = tc.msg();
    const out = await handler.handle(msg, 'udp');
    if (tc.dropped) return assert.equal(out, undefined);
    assert.ok(out);
    assert.equal(out.readUInt16BE(0), msg.readUInt16BE(0), 'same ID');
    assert.ok(out.readUInt8(2) & 0x80, 'QR set');
    assert.equal(out.readUInt8(3) & 0x0f, tc.rcode);
  });

test('handler: EDNS version 1 is BADVERS', async () => {
  const { p, rcode } = await ask(
    query('web.default.svc.cluster.local', 'A', { additionals: [opt(1232, 1)] }),
  );
  const o = p.additionals?.find((a) => a.type === 'OPT') as OptAnswer | undefined;
  assert.equal(rcode, 0);
  assert.equal(o?.extendedRcode, 1, 'BADVERS = 16 = extended 1, header 0');
});

test('handler: never throws on mutated queries', async () => {
  const seeds = [
    query('web.default.svc.cluster.local', 'A', { additionals: [opt(1232)] }),
    query('_http._tcp.web.default.svc.cluster.local', 'SRV'),
    query('5.0.42.10.in-addr.arpa', 'PTR'),
  ];
  let replies = 0;
  for (let i = 0; i < 3000; i++) {
    const m = Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
    for (let k = 0; k < 1 + (i % 4); k++)
      m[Math.floor(Math.random() * m.length)] = Math.floor(Math.random() * 256);
    const cut = i % 7 === 0 ? m.subarray(0, Math.floor(Math.random() * m.length)) : m;
    const out = await handler.handle(cut, i % 2 ? 'udp' : 'tcp');
    if (out) {
      replies++;
      assert.ok(out.length >= 12);
    }
  }
  assert.ok(replies > 0);
});

test('handler: a forwarder failure is SERVFAIL, not a crash', async () => {
  const failing = new DnsHandler({
    zone,
    forwarder: {
      resolve: () => Promise.reject(new Error('boom')),
    },
    log: silentLogger(),
  });
  const out = await failing.handle(query('example.org'), 'udp');
  assert.equal((out?.readUInt8(3) ?? 0) & 0x0f, 2);
});

test('handler: cluster replies are cached until the cluster changes, with each query its own ID', async () => {
  let generation = 1;
  const c = emptyCluster(
    () => true,
    () => generation,
  );
  c.services.set(service('default', 'web', { clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'] }));
  const h = new DnsHandler({
    zone: new ClusterZone({ view: c.view, domain: 'cluster.local', clusterDNS: '10.43.0.10' }),
    forwarder,
    log: silentLogger(),
  });
  const askWith = async (id: number) => {
    const msg = query('web.default.svc.cluster.local');
    msg.writeUInt16BE(id, 0);
    const out = await h.handle(msg, 'udp');
    assert.ok(out);
    return decode(out);
  };
  assert.deepEqual(summary((await askWith(1)).answers ?? []), ['A 10.43.0.20']);
  c.services.set(service('default', 'web', { clusterIP: '10.43.0.21', clusterIPs: ['10.43.0.21'] }));
  const cached = await askWith(2);
  assert.equal(cached.id, 2);
  assert.deepEqual(summary(cached.answers ?? []), ['A 10.43.0.20'], 'same generation: the cached reply');
  generation++;
  assert.deepEqual(
    summary((await askWith(3)).answers ?? []),
    ['A 10.43.0.21'],
    'a new generation: answered afresh',
  );
  const before = forwarded.length;
  await h.handle(query('example.org'), 'udp');
  await h.handle(query('example.org'), 'udp');
  assert.equal(
    forwarded.length,
    before + 2,
    'forwarded answers are never kept here (the forwarder caches them)',
  );
});
