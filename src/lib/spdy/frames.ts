/**
 * SPDY/3.1 frames (SPDY Protocol draft 3.1, section 2): their binary layout
 * and an incremental parser over a byte stream. Header blocks stay
 * compressed here (`headerBlock`); `headers.ts` turns them into name/value
 * lists with the session's zlib contexts, which must see every block of a
 * connection in order.
 *
 *   control: |1| version(15) | type(16) | flags(8) | length(24) | data
 *   data:    |0| stream id(31)          | flags(8) | length(24) | data
 */

export const version = 3;

export const controlType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const flagFin = 0x01;
export const flagUnidirectional = 0x02;

/** RST_STREAM status codes. */
export const rstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

export type Frame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | {
      type: 'synStream';
      streamId: number;
      associatedId: number;
      priority: number;
      fin: boolean;
      unidirectional: boolean;
      headerBlock: Buffer;
    }
  | { type: 'synReply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; clearSettings: boolean; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  /** A control frame of a type this codec does not know; the spec says to ignore it. */
  | { type: 'unknown'; controlType: number };

/** The largest payload a frame can carry (24-bit length). */
export const maxPayload = 0xffffff;

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > maxPayload) throw new RangeError(`spdy: control frame of ${payload.length} bytes`);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | version, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v >>> 0, i * 4);
  return b;
};

/** The bytes of one frame (header blocks already compressed). */
export function encodeFrame(f: Frame): Buffer {
  switch (f.type) {
    case 'data': {
      if (f.data.length > maxPayload) throw new RangeError(`spdy: data frame of ${f.data.length} bytes`);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(f.streamId & 0x7fffffff, 0);
      head.writeUInt32BE(((f.fin ? flagFin : 0) << 24) | f.data.length, 4);
      return Buffer.concat([head, f.data]);
    }
    case 'synStream': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(f.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(f.associatedId & 0x7fffffff, 4);
      fixed.writeUInt8((f.priority & 0x7) << 5, 8);
      const flags = (f.fin ? flagFin : 0) | (f.unidirectional ? flagUnidirectional : 0);
      return control(controlType.synStream, flags, Buffer.concat([fixed, f.headerBlock]));
    }
    case 'synReply':
    case 'headers':
      return control(
        controlType[f.type],
        f.fin ? flagFin : 0,
        Buffer.concat([u32(f.streamId & 0x7fffffff), f.headerBlock]),
      );
    case 'rstStream':
      return control(controlType.rstStream, 0, u32(f.streamId & 0x7fffffff, f.status));
    case 'settings': {
      const body = [u32(f.entries.length)];
      for (const e of f.entries) body.push(u32(((e.flags & 0xff) << 24) | (e.id & 0xffffff), e.value));
      return control(controlType.settings, f.clearSettings ? 1 : 0, Buffer.concat(body));
    }
    case 'ping':
      return control(controlType.ping, 0, u32(f.id));
    case 'goAway':
      return control(controlType.goAway, 0, u32(f.lastGoodStreamId & 0x7fffffff, f.status));
    case 'windowUpdate':
      return control(controlType.windowUpdate, 0, u32(f.streamId & 0x7fffffff, f.delta & 0x7fffffff));
    case 'unknown':
      throw new TypeError('spdy: cannot encode a frame of unknown type');
  }
}

/** A frame that breaks the protocol: the session answers with GOAWAY and closes. */
export class ProtocolError extends Error {}

function decodeControl(type: number, flags: number, p: Buffer): Frame {
  const need = (n: number) => {
    if (p.length < n)
      throw new ProtocolError(`spdy: control frame type ${type} too short (${p.length} bytes)`);
  };
  const fin = (flags & flagFin) !== 0;
  switch (type) {
    case controlType.synStream:
      need(10);
      return {
        type: 'synStream',
        streamId: p.readUInt32BE(0) & 0x7fffffff,
        associatedId: p.readUInt32BE(4) & 0x7fffffff,
        priority: p.readUInt8(8) >> 5,
        fin,
        unidirectional: (flags & flagUnidirectional) !== 0,
        headerBlock: p.subarray(10),
      };
    case controlType.synReply:
    case controlType.headers:
      need(4);
      return {
        type: type === controlType.synReply ? 'synReply' : 'headers',
        streamId: p.readUInt32BE(0) & 0x7fffffff,
        fin,
        headerBlock: p.subarray(4),
      };
    case controlType.rstStream:
      need(8);
      return { type: 'rstStream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
    case controlType.settings: {
      need(4);
      const n = p.readUInt32BE(0);
      need(4 + n * 8);
      const entries = [];
      for (let i = 0; i < n; i++) {
        const fi = p.readUInt32BE(4 + i * 8);
        entries.push({ flags: fi >>> 24, id: fi & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', clearSettings: (flags & 1) !== 0, entries };
    }
    case controlType.ping:
      need(4);
      return { type: 'ping', id: p.readUInt32BE(0) };
    case controlType.goAway:
      need(8);
      return { type: 'goAway', lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
    case controlType.windowUpdate:
      need(8);
      return {
        type: 'windowUpdate',
        streamId: p.readUInt32BE(0) & 0x7fffffff,
        delta: p.readUInt32BE(4) & 0x7fffffff,
      };
    default:
      return { type: 'unknown', controlType: type };
  }
}

/**
 * Splits a byte stream into frames: `push(chunk)` returns the frames the
 * bytes so far complete (a frame may span chunks, a chunk may hold many).
 * Throws ProtocolError on a control frame of another SPDY version.
 */
export class FrameParser {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Frame[] = [];
    while (this.#buf.length >= 8) {
      const length = this.#buf.readUInt32BE(4) & 0xffffff;
      if (this.#buf.length < 8 + length) break;
      const flags = this.#buf.readUInt8(4);
      const payload = this.#buf.subarray(8, 8 + length);
      const first = this.#buf.readUInt32BE(0);
      if (first & 0x80000000) {
        const v = (first >>> 16) & 0x7fff;
        if (v !== version) throw new ProtocolError(`spdy: unsupported version ${v}`);
        out.push(decodeControl(first & 0xffff, flags, payload));
      } else {
        out.push({ type: 'data', streamId: first & 0x7fffffff, fin: (flags & flagFin) !== 0, data: payload });
      }
      this.#buf = this.#buf.subarray(8 + length);
    }
    return out;
  }
}
