/**
 * The gRPC probe: the standard health-checking protocol (grpc.health.v1,
 * `Health/Check`) over HTTP/2 without TLS, as the kubelet sends it. Success
 * is a response with status SERVING. Small enough to speak directly: one
 * length-prefixed protobuf message each way, a string field out and an enum
 * field back, so no gRPC library is needed.
 */
import http2 from 'node:http2';

const checkPath = '/grpc.health.v1.Health/Check';
const SERVING = 1;

/** HealthCheckRequest { string service = 1; } in gRPC's length-prefixed framing. */
export function encodeCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body =
    name.length > 0 ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(0, 0); // not compressed
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

/** HealthCheckResponse.status (field 1, an enum) from a framed response; 0 (UNKNOWN) when absent. */
export function decodeCheckStatus(framed: Buffer): number {
  if (framed.length < 5 || framed[0] !== 0) return 0;
  const msg = framed.subarray(5, 5 + framed.readUInt32BE(1));
  let i = 0;
  while (i < msg.length) {
    const [tag, afterTag] = readVarint(msg, i);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      const [value, next] = readVarint(msg, afterTag);
      if (field === 1) return value;
      i = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(msg, afterTag);
      i = next + len;
    } else if (wire === 5) i = afterTag + 4;
    else if (wire === 1) i = afterTag + 8;
    else return 0;
  }
  return 0;
}

/** Calls Health/Check on host:port; resolves whether the answer is SERVING within `timeoutMs`. */
export function grpcHealthy(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const authority = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    let settled = false;
    const session = http2.connect(authority);
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    session.on('error', () => finish(false));
    const req = session.request({
      ':method': 'POST',
      ':path': checkPath,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'kube-probe/1.32',
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    req.on('response', (headers) => {
      // A "trailers-only" answer carries grpc-status in the headers.
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
      if (headers[':status'] !== 200) finish(false);
    });
    req.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => finish(grpcStatus === '0' && decodeCheckStatus(Buffer.concat(chunks)) === SERVING));
    req.on('error', () => finish(false));
    req.end(encodeCheckRequest(service));
  });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(b: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = start;
  while (i < b.length) {
    const byte = b[i] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    i++;
    if ((byte & 0x80) === 0) return [value, i];
    shift += 7;
  }
  return [value, i];
}
