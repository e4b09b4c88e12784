import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeCheckStatus, encodeCheckRequest, grpcHealthy } from './grpc-probe.ts';

/** A grpc.health.v1 server over h2c: "" and "web" are SERVING, "db" NOT_SERVING, "gone" UNIMPLEMENTED, "hang" never answers. */
let server: http2.Http2Server;
let port = 0;
const requests: { path: string; contentType: string; te: string; service: string }[] = [];

function framed(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

before(async () => {
  server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const msg = body.subarray(5);
      const service = msg.length > 2 ? msg.subarray(2).toString() : '';
      requests.push({
        path: String(headers[':path']),
        contentType: String(headers['content-type']),
        te: String(headers.te),
        service,
      });
      if (service === 'hang') return;
      if (service === 'gone') {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(framed(Buffer.from([0x08, service === 'db' ? 2 : 1])));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
});

test('the request is a framed HealthCheckRequest; the response status is read from its frame', () => {
  assert.deepEqual([...encodeCheckRequest('')], [0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeCheckRequest('db')], [0, 0, 0, 0, 4, 0x0a, 2, 0x64, 0x62]);
  assert.equal(decodeCheckStatus(framed(Buffer.from([0x08, 1]))), 1);
  assert.equal(decodeCheckStatus(framed(Buffer.alloc(0))), 0, 'an empty message is UNKNOWN');
  assert.equal(decodeCheckStatus(Buffer.from([1, 0, 0, 0, 0])), 0, 'compressed frames are not understood');
});

test('SERVING passes; NOT_SERVING, UNIMPLEMENTED, a closed port and a timeout fail', async () => {
  assert.equal(await grpcHealthy('127.0.0.1', port, '', 2000), true);
  assert.equal(await grpcHealthy('127.0.0.1', port, 'web', 2000), true);
  assert.equal(await grpcHealthy('127.0.0.1', port, 'db', 2000), false);
  assert.equal(await grpcHealthy('127.0.0.1', port, 'gone', 2000), false);
  const started = Date.now();
  assert.equal(await grpcHealthy('127.0.0.1', port, 'hang', 200), false);
  assert.ok(Date.now() - started < 1500, 'the timeout bounds the probe');
  const closed = http2.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  closed.close();
  assert.equal(await grpcHealthy('127.0.0.1', closedPort, '', 2000), false);
  const first = requests[0];
  assert.equal(first?.path, '/grpc.health.v1.Health/Check');
  assert.equal(first?.contentType, 'application/grpc');
  assert.equal(first?.te, 'trailers');
});
