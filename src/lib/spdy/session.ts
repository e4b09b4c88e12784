/**
 * A SPDY/3.1 session over any byte stream (a TCP/TLS socket after an HTTP
 * `Upgrade: SPDY/3.1`, or the stream of a WebSocket's binary messages): the
 * multiplexing Kubernetes' port-forward (and exec's SPDY fallback) speaks.
 *
 * Contract:
 * - Peers open streams with SYN_STREAM; the session emits `stream` with a
 *   `SpdyStream` (a Duplex) whose `headers` are the peer's. The listener
 *   answers with `reply()` (client-go waits for SYN_REPLY) or `reset()`.
 *   `openStream(headers)` opens one from this side (clients, tests).
 * - Stream data is the Duplex's: writes become DATA frames, `end()` sends
 *   FIN, the peer's FIN ends the readable side. A RST_STREAM from the peer
 *   destroys the stream (`wasReset` is then true).
 * - PINGs from the peer are echoed; SETTINGS and WINDOW_UPDATE are read and
 *   ignored: like moby/spdystream (client-go's implementation) there is no
 *   per-stream flow control; the byte stream's own backpressure applies.
 * - Frames go out in the order they were asked for, header blocks compressed
 *   in that same order (one zlib stream per direction).
 * - `close()` sends GOAWAY, ends the byte stream and, once that is flushed,
 *   closes the session; the session emits `close` (after destroying open
 *   streams) then, or when the byte stream ends or fails first.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { encodeFrame, type Frame, FrameParser, ProtocolError, rstStatus } from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, type Headers } from './headers.ts';

/** Largest DATA frame sent; bigger writes are split. */
const maxDataFrame = 32 * 1024;

export class SpdyStream extends Duplex {
  readonly id: number;
  /** The headers of the SYN_STREAM (peer-opened) or of the SYN_REPLY (opened here). */
  headers: Headers;
  wasReset = false;
  readonly #session: Session;
  #remoteClosed = false;

  constructor(session: Session, id: number, headers: Headers) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.headers = headers;
  }

  /** Accepts a peer-opened stream (SYN_REPLY). */
  reply(headers: Headers = {}): Promise<void> {
    return this.#session._sendHeaders('synReply', this.id, headers);
  }

  /** Abandons the stream (RST_STREAM with `status`, CANCEL by default). */
  reset(status: number = rstStatus.cancel): void {
    if (this.destroyed) return;
    void this.#session._send({ type: 'rstStream', streamId: this.id, status }).catch(() => undefined);
    this.destroy();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const frames: Promise<void>[] = [];
    for (let at = 0; at < chunk.length; at += maxDataFrame) {
      const data = chunk.subarray(at, at + maxDataFrame);
      frames.push(this.#session._send({ type: 'data', streamId: this.id, fin: false, data }));
    }
    Promise.all(frames).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#session
      ._send({ type: 'data', streamId: this.id, fin: true, data: Buffer.alloc(0) })
      .then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#session._forget(this.id);
    cb(err);
  }

  /** @internal The session hands over the peer's data and FIN. */
  _receive(data: Buffer, fin: boolean): void {
    if (this.#remoteClosed) return;
    if (data.length > 0) this.push(data);
    if (fin) {
      this.#remoteClosed = true;
      this.push(null);
    }
  }
}

export interface SessionOptions {
  /** Server sessions open even-numbered streams and accept odd ones; clients the reverse. */
  server: boolean;
}

export class Session extends EventEmitter<{ stream: [SpdyStream]; close: []; error: [Error] }> {
  readonly #socket: Duplex;
  readonly #server: boolean;
  readonly #parser = new FrameParser();
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #replies = new Map<number, (h: Headers) => void>();
  #nextId: number;
  #lastPeerId = 0;
  #out: Promise<void> = Promise.resolve();
  #in: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(socket: Duplex, opts: SessionOptions) {
    super();
    this.#socket = socket;
    this.#server = opts.server;
    this.#nextId = opts.server ? 2 : 1;
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('end', () => this.#teardown());
    socket.on('close', () => this.#teardown());
    socket.on('error', () => this.#teardown());
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Opens a stream from this side; resolves once the peer's SYN_REPLY arrived. */
  async openStream(headers: Headers, opts: { fin?: boolean } = {}): Promise<SpdyStream> {
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new SpdyStream(this, id, {});
    this.#streams.set(id, stream);
    const replied = new Promise<Headers>((resolve, reject) => {
      this.#replies.set(id, resolve);
      stream.once('close', () => reject(new Error(`spdy: stream ${id} closed before its reply`)));
    });
    const block = this.#compressor.compress(headers);
    await this.#enqueue(async () => {
      const headerBlock = await block;
      return encodeFrame({
        type: 'synStream',
        streamId: id,
        associatedId: 0,
        priority: 0,
        fin: opts.fin ?? false,
        unidirectional: false,
        headerBlock,
      });
    });
    stream.headers = await replied;
    if (opts.fin) stream.end();
    return stream;
  }

  /** Sends GOAWAY and ends the byte stream. */
  close(): void {
    if (this.#closed) return;
    void this._send({ type: 'goAway', lastGoodStreamId: this.#lastPeerId, status: 0 })
      .catch(() => undefined)
      .finally(() => {
        // Done once our side is flushed, whether or not the peer ends its own.
        const timer = setTimeout(() => this.#teardown(), 5000);
        timer.unref();
        this.#socket.end(() => {
          clearTimeout(timer);
          this.#teardown();
        });
      });
  }

  /** @internal Queues one frame; resolves once the byte stream took it. */
  _send(frame: Frame): Promise<void> {
    return this.#enqueue(() => encodeFrame(frame));
  }

  /** @internal Queues a SYN_REPLY/HEADERS frame, its block compressed in queue order. */
  _sendHeaders(type: 'synReply' | 'headers', streamId: number, headers: Headers): Promise<void> {
    const block = this.#compressor.compress(headers);
    return this.#enqueue(async () => encodeFrame({ type, streamId, fin: false, headerBlock: await block }));
  }

  /** @internal */
  _forget(id: number): void {
    this.#streams.delete(id);
    this.#replies.delete(id);
  }

  #enqueue(make: () => Buffer | Promise<Buffer>): Promise<void> {
    const next = this.#out.then(async () => {
      if (this.#closed) throw new Error('spdy: session closed');
      const bytes = await make();
      if (!this.#socket.write(bytes)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.#socket.off('drain', done);
            this.#socket.off('close', done);
            resolve();
          };
          this.#socket.on('drain', done);
          this.#socket.on('close', done);
        });
      }
    });
    this.#out = next.catch(() => undefined);
    return next;
  }

  #onBytes(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    for (const f of frames) {
      this.#in = this.#in.then(() => this.#handle(f)).catch((err: Error) => this.#fail(err));
    }
  }

  async #handle(f: Frame): Promise<void> {
    switch (f.type) {
      case 'data':
        this.#streams.get(f.streamId)?._receive(f.data, f.fin);
        return;
      case 'synStream': {
        const headers = await this.#decompressor.decompress(f.headerBlock);
        const peerParity = this.#server ? 1 : 0;
        if (f.streamId % 2 !== peerParity || f.streamId <= this.#lastPeerId) {
          await this._send({ type: 'rstStream', streamId: f.streamId, status: rstStatus.protocolError });
          return;
        }
        this.#lastPeerId = f.streamId;
        const stream = new SpdyStream(this, f.streamId, headers);
        this.#streams.set(f.streamId, stream);
        if (f.fin || f.unidirectional) stream._receive(Buffer.alloc(0), true);
        this.emit('stream', stream);
        return;
      }
      case 'synReply': {
        const headers = await this.#decompressor.decompress(f.headerBlock);
        this.#replies.get(f.streamId)?.(headers);
        this.#replies.delete(f.streamId);
        if (f.fin) this.#streams.get(f.streamId)?._receive(Buffer.alloc(0), true);
        return;
      }
      case 'headers': {
        const headers = await this.#decompressor.decompress(f.headerBlock);
        const s = this.#streams.get(f.streamId);
        if (s) s.headers = { ...s.headers, ...headers };
        if (f.fin) s?._receive(Buffer.alloc(0), true);
        return;
      }
      case 'rstStream': {
        const s = this.#streams.get(f.streamId);
        if (s) {
          s.wasReset = true;
          s.destroy();
        }
        return;
      }
      case 'ping':
        // Echo the peer's pings (odd ids come from clients, even ones from servers).
        if (f.id % 2 === (this.#server ? 1 : 0)) await this._send(f);
        return;
      case 'goAway':
        this.close();
        return;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        return;
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    if (err instanceof ProtocolError) {
      void this._send({ type: 'goAway', lastGoodStreamId: this.#lastPeerId, status: 1 }).catch(
        () => undefined,
      );
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.#socket.destroy();
    this.#teardown();
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#streams.values()]) s.destroy();
    this.#streams.clear();
    this.#compressor.close();
    this.#decompressor.close();
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.emit('close');
  }
}
