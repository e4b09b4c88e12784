/**
 * One DNS message in, one out (or none): the protocol rules around the
 * cluster zone and the forwarder.
 *
 * - Not a query (QR set), shorter than a header: dropped, never answered
 *   (answering responses invites reflection loops).
 * - Undecodable, not exactly one question, bad names, several OPT records,
 *   oversized: FORMERR. Opcodes other than QUERY: NOTIMP. EDNS versions
 *   above 0: BADVERS. Zone transfers and classes other than IN: REFUSED.
 * - Names in the cluster zone (and reverse names of cluster addresses) are
 *   answered authoritatively; everything else goes to the forwarder. A CNAME
 *   (ExternalName) is followed, up to 8 links, as a recursive server does.
 *   `<svc>.<ns>` of an existing Service is completed as the search list would
 *   (see ClusterZone.completeShortName) before anything is forwarded.
 * - Over UDP a reply larger than 512 bytes, or the client's EDNS buffer size,
 *   is sent empty with TC set so the client retries over TCP (RFC 1035 §4.2.1,
 *   RFC 6891 §6.2.5).
 */
import {
  type Answer,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  decode,
  encode,
  type OptAnswer,
  type Question,
  RECURSION_AVAILABLE,
  RECURSION_DESIRED,
  TRUNCATED_RESPONSE,
} from 'dns-packet';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Forwarded, Forwarder } from './forwarder.ts';
import { isValidQueryName } from './names.ts';
import { rcode } from './rcodes.ts';
import type { ClusterZone } from './zone.ts';

export type Transport = 'udp' | 'tcp';

export interface HandlerOptions {
  zone: ClusterZone;
  /** Resolves names outside the zone; without one they are REFUSED. */
  forwarder?: Pick<Forwarder, 'resolve'>;
  log: Logger;
}

/** The EDNS buffer size we announce and the most we send over UDP (the DNS flag day 2020 figure). */
const ourUdpSize = 1232;
/** Largest query we read: a query carries one question and an OPT record, far below this. */
const maxQueryBytes = 4096;
const maxChain = 8;

interface Outcome {
  /** Answered from the zone alone (nothing forwarded, no failure): the reply may be cached. */
  cacheable?: boolean;
  rcode: number;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** Replies to cluster names kept, by query bytes, until the cluster changes (the busiest path). */
const maxCachedReplies = 10_000;
const maxCachedQueryBytes = 512;

export class DnsHandler {
  readonly #o: HandlerOptions;
  readonly #replies = new Map<string, Buffer>();
  #repliesGeneration: number | undefined;

  constructor(o: HandlerOptions) {
    this.#o = o;
  }

  /**
   * The cached reply to `msg`, synchronously, if there is one: the server's
   * fast path (no promise per query). Otherwise undefined: call handle().
   */
  cachedReply(msg: Buffer, transport: Transport): Buffer | undefined {
    if (msg.length < 12 || msg.length > maxCachedQueryBytes) return undefined;
    const key = this.#cacheKey(msg, transport);
    const cached = key === undefined ? undefined : this.#replies.get(key);
    if (!cached) return undefined;
    const reply = Buffer.from(cached);
    reply.writeUInt16BE(msg.readUInt16BE(0), 0);
    return reply;
  }

  /** The reply to `msg`, or undefined when it must be dropped. Never throws. */
  async handle(msg: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (msg.length < 12 || (msg.readUInt8(2) & 0x80) !== 0) return undefined;
    if (msg.length > maxQueryBytes) return headerOnlyReply(msg, rcode.FORMERR);
    const hit = this.cachedReply(msg, transport);
    if (hit) return hit;
    // Everything but the ID decides the reply: flags (RD), question (case
    // included), OPT (buffer size), and the transport (truncation).
    const key = msg.length <= maxCachedQueryBytes ? this.#cacheKey(msg, transport) : undefined;
    const generation = this.#repliesGeneration;
    const reply = await this.#handleUncached(msg, transport);
    // Kept only if the cluster did not change while it was being worked out.
    if (key !== undefined && reply.bytes && reply.cacheable && this.#o.zone.generation() === generation) {
      if (this.#replies.size >= maxCachedReplies) this.#replies.clear();
      this.#replies.set(key, reply.bytes);
    }
    return reply.bytes;
  }

  /** The cache key of `msg`, dropping every cached reply first if the cluster changed; undefined: no caching. */
  #cacheKey(msg: Buffer, transport: Transport): string | undefined {
    const generation = this.#o.zone.generation();
    if (generation === undefined) return undefined;
    if (generation !== this.#repliesGeneration) {
      this.#replies.clear();
      this.#repliesGeneration = generation;
    }
    return transport + msg.toString('latin1', 2);
  }

  async #handleUncached(msg: Buffer, transport: Transport): Promise<{ bytes: Buffer; cacheable: boolean }> {
    const fail = (code: number) => ({ bytes: headerOnlyReply(msg, code), cacheable: false });
    let query: DecodedPacket;
    try {
      query = decode(msg);
    } catch {
      return fail(rcode.FORMERR);
    }
    const opcode = (msg.readUInt8(2) >> 3) & 0x0f;
    if (opcode !== 0) return fail(rcode.NOTIMP);
    const opts = (query.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
    const q = query.questions?.[0];
    if (!q || query.questions?.length !== 1 || opts.length > 1 || !isValidQueryName(q.name))
      return fail(rcode.FORMERR);
    const opt = opts[0];
    const limit =
      transport === 'tcp' ? 0xffff : opt ? Math.min(Math.max(opt.udpPayloadSize, 512), ourUdpSize) : 512;
    if (opt && opt.ednsVersion > 0)
      return { bytes: this.#reply(query, q, opt, limit, failure(rcode.BADVERS)), cacheable: false };
    let out: Outcome;
    try {
      out = await this.#answer(q);
    } catch (err) {
      this.#o.log.warn({ name: q.name, type: q.type, err: describeError(err) }, 'answering dns query failed');
      out = failure(rcode.SERVFAIL);
    }
    return { bytes: this.#reply(query, q, opt, limit, out), cacheable: out.cacheable === true };
  }

  async #answer(q: Question): Promise<Outcome> {
    if (q.class !== 'IN' || q.type === 'AXFR' || q.type === 'IXFR') return failure(rcode.REFUSED);
    const out: Outcome = {
      cacheable: true,
      rcode: 0,
      authoritative: false,
      answers: [],
      authorities: [],
      additionals: [],
    };
    let name = q.name;
    for (let link = 0; link < maxChain; link++) {
      const z = this.#o.zone.resolve(name, q.type) ?? this.#o.zone.completeShortName(name, q.type);
      const step: Forwarded | undefined = z
        ? z
        : this.#o.forwarder
          ? await this.#o.forwarder.resolve(name, q.type, q.class)
          : { rcode: 'REFUSED', answers: [], authorities: [], additionals: [] };
      if (link === 0) out.authoritative = z !== undefined && z.rcode !== 'SERVFAIL';
      out.rcode = rcode[step.rcode as keyof typeof rcode] ?? rcode.SERVFAIL;
      if (!z || out.rcode === rcode.SERVFAIL) out.cacheable = false;
      out.answers.push(...step.answers);
      out.authorities = step.authorities;
      out.additionals = step.additionals;
      // Forwarded answers come complete (the upstream followed its CNAMEs); ours may end in one.
      if (!z?.chase) return out;
      name = z.chase;
    }
    return out;
  }

  #reply(query: DecodedPacket, q: Question, opt: OptAnswer | undefined, limit: number, out: Outcome): Buffer {
    const base =
      RECURSION_AVAILABLE |
      ((query.flags ?? 0) & RECURSION_DESIRED) |
      (out.authoritative ? AUTHORITATIVE_ANSWER : 0) |
      (out.rcode & 0x0f);
    const ourOpt: OptAnswer | undefined = opt && {
      name: '.',
      type: 'OPT',
      udpPayloadSize: ourUdpSize,
      extendedRcode: out.rcode >> 4,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      options: [],
    };
    const extra = ourOpt ? [ourOpt] : [];
    const full = encode({
      id: query.id,
      type: 'response',
      flags: base,
      questions: [q],
      answers: out.answers,
      authorities: out.authorities,
      additionals: [...out.additionals, ...extra],
    });
    if (full.length <= limit) return full;
    return encode({
      id: query.id,
      type: 'response',
      flags: base | TRUNCATED_RESPONSE,
      questions: [q],
      additionals: extra,
    });
  }
}

function failure(rcode: number): Outcome {
  return { rcode, authoritative: false, answers: [], authorities: [], additionals: [] };
}

/** A bare reply (no sections) echoing the query's ID, opcode and RD bit: for queries we cannot read. */
function headerOnlyReply(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  const opcodeAndRd = msg.readUInt8(2) & 0x79;
  out.writeUInt8(0x80 | opcodeAndRd, 2);
  out.writeUInt8(RECURSION_AVAILABLE | (rcode & 0x0f), 3);
  return out;
}
