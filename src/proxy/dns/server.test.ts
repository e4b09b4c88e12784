import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import test from 'node:test';
import { type DecodedPacket, decode, encode, RECURSION_DESIRED } from 'dns-packet';
import { silentLogger } from '../../lib/logger.ts';
import { startFakeUpstream } from './fake-upstream.ts';
import { sampleCluster, slice, summary } from './fake-view.ts';
import { Forwarder } from './forwarder.ts';
import { DnsHandler } from './handler.ts';
import { DnsServer } from './server.ts';
import { ClusterZone } from './zone.ts';

function query(id: number, name: string, type = 'A'): Buffer {
  return encode({ id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type: type as 'A' }] });
}

function udpAsk(port: number, msg: Buffer): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no udp reply within 2 s'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(decode(m));
    });
    s.send(msg, port, '127.0.0.1');
  });
}

/** Sends every message on one TCP connection (pipelined, split across writes) and reads as many replies. */
function tcpAsk(port: number, msgs: Buffer[]): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const out: DecodedPacket[] = [];
    let buf: Buffer = Buffer.alloc(0);
    sock.setTimeout(2000, () => {
      sock.destroy();
      reject(new Error('no tcp reply within 2 s'));
    });
    sock.on('error', reject);
    sock.on('connect', () => {
      const framed = Buffer.concat(
        msgs.map((m) => {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(m.length);
          return Buffer.concat([len, m]);
        }),
      );
      sock.write(framed.subarray(0, 5));
      setImmediate(() => sock.write(framed.subarray(5)));
    });
    sock.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) {
        sock.destroy();
        resolve(out);
      }
    });
  });
}

test('server: UDP and TCP on one port, cluster and forwarded names, truncation then TCP', async (t) => {
  const up = await startFakeUpstream({
    records: { 'example.org': [{ name: 'example.org', type: 'A', ttl: 60, data: '192.0.2.7' }] },
  });
  t.after(() => up.close());
  const cluster = sampleCluster();
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
      Array.from({ length: 40 }, (_, i) => ({
        addresses: [`10.42.1.${i + 1}`],
        conditions: { ready: true },
      })),
    ),
  );
  const log = silentLogger();
  const forwarder = new Forwarder({ upstreams: () => [up], log });
  const zone = new ClusterZone({ view: cluster.view, domain: 'cluster.local', clusterDNS: '127.0.0.1' });
  const server = new DnsServer({ handler: new DnsHandler({ zone, forwarder, log }), log });
  const port = await server.listen('127.0.0.1', 0);
  t.after(async () => {
    forwarder.close();
    await server.close();
  });

  const a = await udpAsk(port, query(1, 'web.default.svc.cluster.local'));
  assert.equal(a.id, 1);
  assert.deepEqual(summary(a.answers ?? []), ['A 10.43.0.20']);
  const fwd = await udpAsk(port, query(2, 'example.org'));
  assert.deepEqual(summary(fwd.answers ?? []), ['A 192.0.2.7']);

  const big = await udpAsk(port, query(3, 'big.default.svc.cluster.local'));
  assert.ok(big.flag_tc, 'truncated over UDP');
  const replies = await tcpAsk(port, [
    query(4, 'big.default.svc.cluster.local'),
    query(5, 'kubernetes.default.svc.cluster.local'),
  ]);
  const byId = new Map(replies.map((r) => [r.id, r]));
  assert.equal(byId.get(4)?.answers?.length, 40);
  assert.deepEqual(summary(byId.get(5)?.answers ?? []), ['A 10.43.0.1']);

  // Garbage does not stop the server.
  const s = createSocket('udp4');
  await new Promise<void>((resolve) =>
    s.send(Buffer.from('not dns at all'), port, '127.0.0.1', () => resolve()),
  );
  s.close();
  const after = await udpAsk(port, query(6, 'web.default.svc.cluster.local'));
  assert.equal(after.id, 6);
});

test('server: a port already taken is an error, not a crash', async (t) => {
  const log = silentLogger();
  const zone = new ClusterZone({
    view: sampleCluster().view,
    domain: 'cluster.local',
    clusterDNS: '127.0.0.1',
  });
  const first = new DnsServer({ handler: new DnsHandler({ zone, log }), log });
  const port = await first.listen('127.0.0.1', 0);
  t.after(() => first.close());
  const second = new DnsServer({ handler: new DnsHandler({ zone, log }), log });
  await assert.rejects(second.listen('127.0.0.1', port), /EADDRINUSE/);
});
