/**
 * A tiny authoritative DNS server for tests: stands in for the host's
 * resolver on a loopback address, answering from a table, counting the
 * questions it gets. Optionally truncates every UDP reply (to force TCP).
 */
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { type Answer, decode, encode, type Question, TRUNCATED_RESPONSE } from 'dns-packet';

export interface FakeUpstreamOptions {
  host?: string;
  /** 0 (default): any free port, the same for UDP and TCP. */
  port?: number;
  /** Records by lower-cased name; a name missing is NXDOMAIN with an SOA (minimum 60). */
  records: Record<string, Answer[]>;
  truncateUdp?: boolean;
  /** Answer nothing at all (a dead resolver). */
  silent?: boolean;
}

export interface FakeUpstream {
  host: string;
  port: number;
  /** Questions received, as `name type transport`. */
  readonly asked: string[];
  close(): Promise<void>;
}

function reply(q: Question, id: number, records: Record<string, Answer[]>, truncate: boolean): Buffer {
  const name = q.name.toLowerCase();
  const all = records[name];
  const answers = (all ?? []).filter((a) => a.type === q.type || a.type === 'CNAME');
  const soa: Answer = {
    name: 'test',
    type: 'SOA',
    ttl: 60,
    data: { mname: 'ns.test', rname: 'root.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 },
  };
  return encode({
    id,
    type: 'response',
    flags: (all ? 0 : 3) | (truncate ? TRUNCATED_RESPONSE : 0) | (1 << 7) | (1 << 8),
    questions: [q],
    answers: truncate ? [] : answers,
    authorities: answers.length === 0 && !truncate ? [soa] : [],
  });
}

/** Starts it; with port 0, tries again when TCP finds the port UDP got already taken. */
export async function startFakeUpstream(o: FakeUpstreamOptions): Promise<FakeUpstream> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o);
    } catch (err) {
      if ((o.port ?? 0) !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5)
        throw err;
    }
  }
}

async function startOnce(o: FakeUpstreamOptions): Promise<FakeUpstream> {
  const host = o.host ?? '127.0.0.1';
  const asked: string[] = [];
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    try {
      const p = decode(msg);
      const q = p.questions?.[0];
      if (!q) return;
      asked.push(`${q.name} ${q.type} udp`);
      if (!o.silent)
        udp.send(reply(q, p.id ?? 0, o.records, o.truncateUdp ?? false), rinfo.port, rinfo.address);
    } catch {
      // a test upstream ignores what it cannot read
    }
  });
  await new Promise<void>((resolve) => udp.bind(o.port ?? 0, host, resolve));
  const port = udp.address().port;
  const conns = new Set<Socket>();
  const tcp = createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const p = decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      const q = p.questions?.[0];
      if (!q) return;
      asked.push(`${q.name} ${q.type} tcp`);
      if (o.silent) return;
      const out = reply(q, p.id ?? 0, o.records, false);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length);
      sock.end(Buffer.concat([len, out]));
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host, port }, resolve);
    });
  } catch (err) {
    udp.close();
    throw err;
  }
  return {
    host,
    port,
    asked,
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      for (const c of conns) c.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
