/**
 * Resolves names outside the cluster through the host's resolvers: a fresh
 * query (random ID, RD set, EDNS 1232) over UDP, retried over TCP when the
 * reply is truncated, the next upstream on timeout or SERVFAIL. Answers are
 * cached for their TTL (negative ones for the SOA's minimum) and concurrent
 * identical questions share one upstream query.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { type Answer, type DecodedPacket, decode, encode, RECURSION_DESIRED } from 'dns-packet';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { TtlCache } from './cache.ts';
import { rcodeName } from './rcodes.ts';
import type { Upstream } from './resolv-conf.ts';

export interface Forwarded {
  rcode: string;
  answers: Answer[];
  authorities: Answer[];
  /** Additional records without OPT (the reply carries our own). */
  additionals: Answer[];
}

export interface ForwarderOptions {
  upstreams: () => Promise<Upstream[]> | Upstream[];
  log: Logger;
  /** Per-upstream wait (default 2000 ms). */
  timeoutMs?: number;
  cache?: TtlCache<Forwarded>;
}

const maxPositiveTtl = 3600;
const maxNegativeTtl = 1800;

interface Pending {
  resolve: (p: DecodedPacket | undefined) => void;
  host: string;
  port: number;
  name: string;
  type: string;
}

export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #cache: TtlCache<Forwarded>;
  readonly #inflight = new Map<string, Promise<Forwarded>>();
  readonly #pending = new Map<number, Pending>();
  readonly #sockets = new Map<'udp4' | 'udp6', Socket>();
  #closed = false;

  constructor(o: ForwarderOptions) {
    this.#o = o;
    this.#cache = o.cache ?? new TtlCache<Forwarded>();
  }

  /** The answer for a question, from the cache or an upstream; SERVFAIL when none answers. */
  resolve(name: string, type: string, klass = 'IN'): Promise<Forwarded> {
    const key = `${name.toLowerCase()}|${type}|${klass}`;
    const hit = this.#cache.get(key);
    if (hit) return Promise.resolve(aged(hit.value, hit.ageSeconds));
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#ask(name, type, klass)
        .then((r) => {
          this.#cache.set(key, r, cacheTtl(r));
          return r;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
    for (const p of this.#pending.values()) p.resolve(undefined);
    this.#pending.clear();
  }

  async #ask(name: string, type: string, klass: string): Promise<Forwarded> {
    const upstreams = await this.#o.upstreams();
    for (const u of upstreams) {
      if (this.#closed) break;
      const id = this.#freeId();
      const query = encode({
        id,
        type: 'query',
        flags: RECURSION_DESIRED,
        questions: [{ name, type: type as 'A', class: klass as 'IN' }],
        additionals: [
          {
            name: '.',
            type: 'OPT',
            udpPayloadSize: 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ],
      });
      let reply = await this.#udp(u, id, query, name, type);
      if (reply?.flag_tc) reply = await this.#tcp(u, query, id).catch(() => undefined);
      const code = rcodeName((reply?.flags ?? 0) & 0x0f);
      if (!reply || code === 'SERVFAIL' || code === 'REFUSED') continue;
      return {
        rcode: code,
        answers: reply.answers ?? [],
        authorities: reply.authorities ?? [],
        additionals: (reply.additionals ?? []).filter((a) => a.type !== 'OPT'),
      };
    }
    if (upstreams.length === 0) this.#o.log.debug({ name }, 'no upstream resolver to forward to');
    return { rcode: 'SERVFAIL', answers: [], authorities: [], additionals: [] };
  }

  #freeId(): number {
    for (;;) {
      const id = randomInt(0, 0x10000);
      if (!this.#pending.has(id)) return id;
    }
  }

  #socket(family: 'udp4' | 'udp6'): Socket {
    let s = this.#sockets.get(family);
    if (s) return s;
    s = createSocket(family);
    s.on('message', (msg, rinfo) => this.#onReply(msg, rinfo.address, rinfo.port));
    s.on('error', (err) => this.#o.log.warn({ err: describeError(err) }, 'dns forwarder socket failed'));
    s.unref();
    this.#sockets.set(family, s);
    return s;
  }

  #onReply(msg: Buffer, host: string, port: number): void {
    if (msg.length < 12) return;
    const p = this.#pending.get(msg.readUInt16BE(0));
    // Only the upstream we asked, about the question we asked (spoofing, late replies).
    if (!p || p.host !== host || p.port !== port) return;
    let reply: DecodedPacket;
    try {
      reply = decode(msg);
    } catch {
      return;
    }
    const q = reply.questions?.[0];
    if (reply.type !== 'response' || !q || q.name.toLowerCase() !== p.name.toLowerCase() || q.type !== p.type)
      return;
    p.resolve(reply);
  }

  #udp(
    u: Upstream,
    id: number,
    query: Buffer,
    name: string,
    type: string,
  ): Promise<DecodedPacket | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), this.#o.timeoutMs ?? 2000);
      const done = (p: DecodedPacket | undefined) => {
        clearTimeout(timer);
        if (this.#pending.get(id)?.resolve === done) this.#pending.delete(id);
        resolve(p);
      };
      this.#pending.set(id, { resolve: done, host: u.host, port: u.port, name, type });
      this.#socket(isIPv6(u.host) ? 'udp6' : 'udp4').send(query, u.port, u.host, (err) => {
        if (err) done(undefined);
      });
    });
  }

  #tcp(u: Upstream, query: Buffer, id: number): Promise<DecodedPacket | undefined> {
    return new Promise((resolve) => {
      const sock = connect({ host: u.host, port: u.port });
      const chunks: Buffer[] = [];
      const finish = (p: DecodedPacket | undefined) => {
        sock.destroy();
        resolve(p);
      };
      sock.setTimeout(this.#o.timeoutMs ?? 2000, () => finish(undefined));
      sock.on('error', () => finish(undefined));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (b: Buffer) => {
        chunks.push(b);
        const all = Buffer.concat(chunks);
        if (all.length < 2 || all.length < 2 + all.readUInt16BE(0)) return;
        try {
          const reply = decode(all.subarray(2, 2 + all.readUInt16BE(0)));
          finish(reply.id === id ? reply : undefined);
        } catch {
          finish(undefined);
        }
      });
    });
  }
}

/** How long a forwarded answer may be cached, in seconds (0: not at all). */
export function cacheTtl(r: Forwarded): number {
  if (r.rcode === 'NOERROR' && r.answers.length > 0)
    return Math.min(maxPositiveTtl, ...r.answers.map((a) => ('ttl' in a ? (a.ttl ?? 0) : 0)));
  if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') return 0;
  const soa = r.authorities.find((a) => a.type === 'SOA');
  if (soa?.type !== 'SOA') return 0;
  return Math.min(maxNegativeTtl, soa.ttl ?? 0, soa.data.minimum ?? 0);
}

/** A cached answer with its TTLs counted down by the time it has spent in the cache. */
function aged(r: Forwarded, seconds: number): Forwarded {
  if (seconds === 0) return r;
  const age = (list: Answer[]) =>
    list.map((a) => (a.type === 'OPT' ? a : { ...a, ttl: Math.max(0, (a.ttl ?? 0) - seconds) }) as Answer);
  return { ...r, answers: age(r.answers), authorities: age(r.authorities), additionals: age(r.additionals) };
}
