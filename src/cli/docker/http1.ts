import net from 'node:net';
import { Readable } from 'node:stream';

/**
 * A minimal HTTP/1.1 client over a unix socket, for the CLI only. Why not
 * node:http: loading it costs ~37 ms per `drover` invocation (node:net ~4 ms),
 * most of a CLI's start-up budget. It speaks what the Docker Engine API needs:
 * one request per connection (Connection: close), Content-Length or chunked
 * request bodies, Content-Length / chunked / until-close / no-body responses,
 * and `Upgrade: tcp` hijacking (101, then the raw socket).
 */

export interface Http1Request {
  socketPath: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** A Buffer is sent with Content-Length; a stream with Transfer-Encoding: chunked. */
  body?: Buffer | NodeJS.ReadableStream;
  /** Upgrade: tcp — the result's `upgraded` is set when the server answers 101. */
  upgrade?: boolean;
}

/** The response body as a Readable, with the status and lower-cased headers. */
export type Http1Response = Readable & {
  statusCode: number;
  headers: Record<string, string>;
  /** Set on 101: the raw connection and the bytes already read past the headers. */
  upgraded?: { socket: net.Socket; head: Buffer };
};

/** Buffers a socket's bytes so they can be read by delimiter or count. */
class ByteReader {
  #pending: Buffer = Buffer.alloc(0);
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  readonly socket: net.Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    if (this.#pending.length > 1 << 20) this.socket.pause(); // backpressure: resumed by the next read
    this.#notify();
  };
  readonly #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };
  readonly #onError = (err: NodeJS.ErrnoException) => {
    // EPIPE is the write side: the engine answered and closed before taking all we sent. What it said is
    // already buffered; reading ends there rather than failing.
    if (err.code === 'EPIPE') this.#ended = true;
    else this.#error = err;
    this.#notify();
  };

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async #more(): Promise<boolean> {
    if (this.#error) throw this.#error;
    if (this.#ended) return false;
    this.socket.resume();
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    if (this.#error) throw this.#error;
    return true;
  }

  async until(delimiter: string): Promise<Buffer | undefined> {
    for (;;) {
      const at = this.#pending.indexOf(delimiter);
      if (at >= 0) {
        const out = this.#pending.subarray(0, at);
        this.#pending = this.#pending.subarray(at + delimiter.length);
        return out;
      }
      if (!(await this.#more())) return undefined;
    }
  }

  async exactly(n: number): Promise<Buffer> {
    while (this.#pending.length < n) {
      if (!(await this.#more())) throw new Error('connection closed in the middle of a response');
    }
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }

  /** What is buffered, or the next chunk; undefined at the end. */
  async some(): Promise<Buffer | undefined> {
    if (this.#pending.length === 0 && !(await this.#more()) && this.#pending.length === 0) return undefined;
    if (this.#pending.length === 0) return this.some();
    const out = this.#pending;
    this.#pending = Buffer.alloc(0);
    return out;
  }

  /** Stops reading and hands the socket (paused) and the buffered bytes to someone else. */
  detach(): Buffer {
    this.socket.pause();
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    this.socket.off('close', this.#onEnd);
    this.socket.off('error', this.#onError);
    // Until the new owner reads it (and sees errors through its iterator), an error must not crash the CLI.
    this.socket.on('error', () => {});
    return this.#pending;
  }
}

async function* chunkedBody(r: ByteReader): AsyncGenerator<Buffer> {
  for (;;) {
    const line = await r.until('\r\n');
    if (line === undefined) throw new Error('connection closed in the middle of a chunked response');
    const size = Number.parseInt(line.toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked response');
    if (size === 0) return;
    yield await r.exactly(size);
    await r.exactly(2);
  }
}

async function* lengthBody(r: ByteReader, length: number): AsyncGenerator<Buffer> {
  let left = length;
  while (left > 0) {
    const chunk = await r.some();
    if (!chunk) throw new Error('connection closed in the middle of a response');
    const take = chunk.subarray(0, left);
    left -= take.length;
    yield take;
  }
}

async function* noBody(): AsyncGenerator<Buffer> {}

async function* untilClose(r: ByteReader): AsyncGenerator<Buffer> {
  for (let chunk = await r.some(); chunk; chunk = await r.some()) yield chunk;
}

function requestHead(req: Http1Request): Buffer {
  const headers: Record<string, string> = { ...req.headers };
  // HTTP/1.1 requires Host; the engine ignores its value.
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) headers.Host = 'localhost';
  if (req.upgrade) {
    headers.Connection = 'Upgrade';
    headers.Upgrade = 'tcp';
  } else {
    headers.Connection = 'close';
  }
  if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
  else if (req.body) headers['Transfer-Encoding'] = 'chunked';
  const lines = [
    `${req.method} ${req.path} HTTP/1.1`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

async function writeChunked(socket: net.Socket, body: NodeJS.ReadableStream): Promise<void> {
  for await (const chunk of body) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (data.length === 0) continue;
    const ok = socket.write(
      Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]),
    );
    if (!ok) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.write('0\r\n\r\n');
}

/** Sends one request; resolves once the response headers are in. Connection errors reject with the socket's error. */
export function http1(req: Http1Request): Promise<Http1Response> {
  return new Promise<Http1Response>((resolve, reject) => {
    const socket = net.connect(req.socketPath);
    const reader = new ByteReader(socket);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      // Head and a small body in one write: the engine may answer and close right after reading them.
      const head = requestHead(req);
      socket.write(Buffer.isBuffer(req.body) && req.body.length > 0 ? Buffer.concat([head, req.body]) : head);
      if (req.body && !Buffer.isBuffer(req.body)) {
        writeChunked(socket, req.body).catch((err: Error) => socket.destroy(err));
      }
    });
    readResponse(req, reader).then(resolve, (err: Error) => {
      socket.destroy();
      reject(err);
    });
  });
}

async function readResponse(req: Http1Request, reader: ByteReader): Promise<Http1Response> {
  const head = await reader.until('\r\n\r\n');
  if (head === undefined) throw new Error('the engine closed the connection without answering');
  const [statusLine = '', ...headerLines] = head.toString('latin1').split('\r\n');
  const statusCode = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!statusCode) throw new Error(`malformed response from the engine: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const socket = reader.socket;
  let upgraded: Http1Response['upgraded'];
  let body: AsyncGenerator<Buffer>;
  if (statusCode === 101 && req.upgrade) {
    upgraded = { socket, head: reader.detach() };
    body = noBody();
  } else if (req.method === 'HEAD' || statusCode === 204 || statusCode === 304 || statusCode < 200) {
    body = noBody();
  } else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    body = chunkedBody(reader);
  } else if (headers['content-length'] !== undefined) {
    body = lengthBody(reader, Number(headers['content-length']));
  } else {
    body = untilClose(reader);
  }
  const res = Readable.from(body, { objectMode: false }) as Http1Response;
  res.statusCode = statusCode;
  res.headers = headers;
  if (upgraded) {
    res.upgraded = upgraded;
  } else {
    // The response is the connection's only use: it ends with the body (or when the caller destroys it).
    res.on('close', () => socket.destroy());
    res.on('end', () => socket.destroy());
  }
  return res;
}
