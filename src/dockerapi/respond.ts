/**
 * Writing Docker-shaped responses: the headers every daemon response carries,
 * JSON bodies, streaming (chunked) bodies, and the one mapping from our error
 * classes to Docker's `{"message"}` with its status code.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../lib/errors.ts';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';
export const SERVER_HEADER = 'Drover/0.1.0 (linux)';

/** Headers the real daemon puts on every response; clients read Api-Version and Ostype from _ping. */
export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: SERVER_HEADER,
  };
}

/** An HTTP status chosen by a handler on purpose (e.g. 304 for a no-op start). */
export class HttpError extends Error {
  readonly status: number;
  /** Send the message as text/plain instead of JSON (dockerd does so for too-old versions). */
  readonly plain: boolean;
  constructor(status: number, message: string, opts: { plain?: boolean } = {}) {
    super(message);
    this.status = status;
    this.plain = opts.plain ?? false;
  }
}

/** Docker capitalises these messages; the engine keeps ours lower-case. */
const capitalised = [
  'no such container',
  'no such image',
  'no such exec instance',
  'conflict.',
  'you cannot remove',
  'container ',
  'could not find the file',
  'no exec command specified',
  'cannot kill container',
];

export function dockerMessage(message: string): string {
  const lower = message.toLowerCase();
  if (capitalised.some((p) => lower.startsWith(p))) return message.charAt(0).toUpperCase() + message.slice(1);
  return message;
}

export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError || err instanceof AlreadyExistsError) return 409;
  if (err instanceof InvalidError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof UnavailableError) return 503;
  return 500;
}

export function errorBody(err: unknown): { status: number; message: string } {
  const raw = err instanceof Error ? err.message : String(err);
  return { status: statusOf(err), message: dockerMessage(raw) };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
  res.end();
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, message } = errorBody(err);
  if (res.headersSent) {
    // Mid-stream: the status is gone; end the body so the client sees the cut.
    res.destroy();
    return;
  }
  if (status === 304) {
    sendEmpty(res, 304);
    return;
  }
  if (err instanceof HttpError && err.plain) {
    const text = `${message}\n`;
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  sendJson(res, status, { message });
}

/** Starts a chunked streaming body and sends the status line at once (clients wait on it). */
export function startStream(res: ServerResponse, contentType?: string): void {
  if (contentType) res.setHeader('Content-Type', contentType);
  res.writeHead(200);
  res.flushHeaders();
}

/**
 * Writes a chunk and resolves when the socket wants more: the backpressure a
 * slow `docker logs | less` needs. Resolves false once the client is gone.
 */
export function writeChunk(res: ServerResponse, chunk: Buffer | string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

const reasons: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A complete HTTP response written by hand on a socket that Node's server no longer manages (upgrade). */
export function writeRawResponse(socket: Socket, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body) + '\n';
  const headers = { ...commonHeaders(), 'Content-Type': 'application/json', Date: new Date().toUTCString() };
  let head = `HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n`;
  socket.end(head + text);
}

export function writeRawError(socket: Socket, err: unknown): void {
  const { status, message } = errorBody(err);
  writeRawResponse(socket, status, { message });
}
