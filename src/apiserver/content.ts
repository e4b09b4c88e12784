import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { isObject, type JsonObject } from '../api/types.ts';
import { decodeProtobufBody } from './protobuf/decode.ts';
import { ApiError, badRequest, type StatusObject, unsupportedMediaType } from './status.ts';

/** Largest request body accepted (upstream: 3 MiB objects). */
export const maxBodyBytes = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early would destroy the socket before the 413 could be
  // sent, so an oversized body is read to its end and dropped.
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size <= maxBodyBytes) chunks.push(b);
  }
  if (size > maxBodyBytes) {
    throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${maxBodyBytes}`);
  }
  return Buffer.concat(chunks);
}

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Decodes a request body per its Content-Type: JSON, YAML, or the `k8s\0` protobuf envelope. */
export function decodeBody(body: Buffer, contentType: string | undefined): JsonObject {
  const type = mediaType(contentType);
  let value: unknown;
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufBody(body);
  if (type === 'application/json' || type === '' || type.endsWith('+json')) {
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw badRequest(
        `couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  } else if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      value = YAML.parse(body.toString('utf8'), { uniqueKeys: true });
    } catch (err) {
      throw badRequest(
        `error converting YAML to JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
    }
  } else throw unsupportedMediaType(type);
  if (!isObject(value) && !Array.isArray(value)) throw badRequest('the request body must be a JSON object');
  return value as JsonObject;
}

export type Output = { kind: 'json' } | { kind: 'yaml' } | { kind: 'table' } | { kind: 'discovery' };

/** Picks the response form from Accept (first supported entry wins); undefined = 406. */
export function negotiate(accept: string | undefined, allowDiscovery = false): Output | undefined {
  if (!accept) return { kind: 'json' };
  for (const raw of accept.split(',')) {
    const [base = '', ...params] = raw.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    const type = base.toLowerCase();
    if (type === 'application/json' || type === '*/*' || type === 'application/*') {
      if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1'))
        return { kind: 'table' };
      if (p.as === 'APIGroupDiscoveryList' && p.g === 'apidiscovery.k8s.io' && p.v === 'v2') {
        if (allowDiscovery) return { kind: 'discovery' };
        continue;
      }
      if (p.as) continue;
      return { kind: 'json' };
    }
    if (type === 'application/yaml') return { kind: 'yaml' };
  }
  return undefined;
}

export interface SendOptions {
  output?: Output;
  headers?: Record<string, string>;
}

export function send(res: ServerResponse, code: number, body: unknown, opts: SendOptions = {}): void {
  const yaml = opts.output?.kind === 'yaml';
  const text = yaml ? YAML.stringify(body) : JSON.stringify(body);
  let contentType = yaml ? 'application/yaml' : 'application/json';
  if (opts.output?.kind === 'discovery')
    contentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    ...opts.headers,
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: StatusObject): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  send(res, status.code, status);
}
