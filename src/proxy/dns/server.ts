/**
 * DNS over UDP and TCP on one address and port, each message handed to a
 * DnsHandler. TCP follows RFC 7766: two-byte length framing, several
 * queries per connection (answered as they complete), idle connections
 * closed after 10 s, at most 256 open at once. A failing handler or a
 * socket error is logged and never takes the server down.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DnsHandler } from './handler.ts';

export interface DnsServerOptions {
  handler: Pick<DnsHandler, 'handle'> & Partial<Pick<DnsHandler, 'cachedReply'>>;
  log: Logger;
  /** Idle TCP connections are closed after this long (default 10 s). */
  tcpIdleMs?: number;
  maxTcpConnections?: number;
}

export class DnsServer {
  readonly #o: DnsServerOptions;
  #udp: UdpSocket | undefined;
  #tcp: Server | undefined;
  readonly #conns = new Set<Socket>();

  constructor(o: DnsServerOptions) {
    this.#o = o;
  }

  /** Binds UDP and TCP on `host:port` (port 0: any free one, the same for both). Resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    // With port 0 the port UDP got may be taken for TCP: try another.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#listenOnce(host, port);
      } catch (err) {
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (port !== 0 || !inUse || attempt >= 5) throw err;
      }
    }
  }

  async #listenOnce(host: string, port: number): Promise<number> {
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    udp.on('message', (msg, rinfo) => this.#onDatagram(udp, msg, rinfo.address, rinfo.port));
    udp.on('error', (err) => this.#o.log.warn({ err: describeError(err) }, 'dns udp socket error'));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    // The kernel's default receive buffer (~200 KiB) on purpose: a larger one
    // only queues more queries than we can answer before clients give up.
    this.#udp = udp;
    const bound = udp.address().port;
    const tcp = createServer((sock) => this.#onConnection(sock));
    tcp.maxConnections = this.#o.maxTcpConnections ?? 256;
    tcp.on('error', (err) => this.#o.log.warn({ err: describeError(err) }, 'dns tcp server error'));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host, port: bound }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.#udp = undefined;
      throw err;
    }
    this.#tcp = tcp;
    return bound;
  }

  async close(): Promise<void> {
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    for (const c of this.#conns) c.destroy();
    const tcp = this.#tcp;
    this.#tcp = undefined;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  #onDatagram(udp: UdpSocket, msg: Buffer, address: string, port: number): void {
    const hit = this.#o.handler.cachedReply?.(msg, 'udp');
    if (hit) {
      udp.send(hit, port, address);
      return;
    }
    this.#o.handler.handle(msg, 'udp').then(
      (reply) => {
        if (reply && this.#udp === udp) udp.send(reply, port, address);
      },
      (err: unknown) => this.#o.log.warn({ err: describeError(err) }, 'dns udp query failed'),
    );
  }

  #onConnection(sock: Socket): void {
    this.#conns.add(sock);
    sock.setTimeout(this.#o.tcpIdleMs ?? 10_000, () => sock.destroy());
    sock.on('close', () => this.#conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.#answerTcp(sock, msg);
      }
    });
  }

  #answerTcp(sock: Socket, msg: Buffer): void {
    this.#o.handler.handle(msg, 'tcp').then(
      (reply) => {
        if (!reply || sock.destroyed) return;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(reply.length);
        sock.write(Buffer.concat([len, reply]));
      },
      (err: unknown) => this.#o.log.warn({ err: describeError(err) }, 'dns tcp query failed'),
    );
  }
}
