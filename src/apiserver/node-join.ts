/**
 * Joining nodes with a token, as k3s does it: the server keeps a join token
 * in `<dataDir>/token`, `K10<sha256 of the CA certificate>::node:<secret>`.
 * An agent given that token
 *   1. fetches the CA from `GET /cacerts` (public) and checks it against the
 *      hash in the token, so it trusts the right server without a CA file;
 *   2. sends `POST /v1-drover/node-certificate` with `Authorization: Bearer
 *      <token>` and its two PKCS#10 requests, and gets back its client and
 *      kubelet serving certificates signed by the cluster CA (node-certs.ts).
 * The token is good only here; afterwards the node authenticates with its
 * certificate (CN=system:node:<name>, O=system:nodes), which the Node
 * authorizer confines to its own objects.
 *
 * Why an endpoint instead of a CertificateSigningRequest auto-approved for
 * bootstrap tokens: the certificates API, its approver and signer
 * controllers and bootstrap-token Secrets would all be needed for one
 * exchange; the endpoint is one round trip with the same security (a shared
 * secret gates a CA signature over a key the node keeps).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { InvalidError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { signNodeCerts } from './node-certs.ts';
import type { Pki } from './pki.ts';

export const caPath = '/cacerts';
export const nodeCertificatePath = '/v1-drover/node-certificate';

export function caHash(caCert: string): string {
  return createHash('sha256').update(caCert).digest('hex');
}

/** `K10<ca hash>::node:<secret>`; a bare secret is accepted too (then the CA is not pinned). */
export function parseJoinToken(token: string): { caHash?: string; secret: string } {
  const m = /^K10([0-9a-f]{64})::[^:]+:(.+)$/.exec(token.trim());
  return m ? { caHash: m[1], secret: m[2] ?? '' } : { secret: token.trim() };
}

/** Reads `<dataDir>/token`, creating it on first start. */
export async function loadOrCreateJoinToken(dataDir: string, pki: Pki): Promise<string> {
  const file = join(dataDir, 'token');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) return existing;
  } catch {
    // First start: made below.
  }
  const token = `K10${caHash(pki.caCert)}::node:${randomBytes(16).toString('hex')}`;
  await writeFileAtomic(file, `${token}\n`, 0o600);
  return token;
}

function reply(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const failure = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

/** Serves the two join paths; `handle` returns false for any other path. */
export class NodeJoin {
  readonly #pki: Pki;
  readonly #secret: Buffer;
  readonly #log: Logger;

  constructor(pki: Pki, token: string, log: Logger) {
    this.#pki = pki;
    this.#secret = Buffer.from(parseJoinToken(token).secret);
    this.#log = log;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (path === caPath && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
      res.end(this.#pki.caCert);
      return true;
    }
    if (path !== nodeCertificatePath) return false;
    if (req.method !== 'POST') {
      reply(res, 405, failure(405, 'MethodNotAllowed', 'use POST'));
      return true;
    }
    const auth = req.headers.authorization ?? '';
    const given = Buffer.from(parseJoinToken(auth.replace(/^Bearer\s+/i, '')).secret);
    if (given.length !== this.#secret.length || !timingSafeEqual(given, this.#secret)) {
      reply(res, 401, failure(401, 'Unauthorized', 'joining node: the join token is not valid'));
      return true;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      const certs = await signNodeCerts(this.#pki, {
        nodeName: String(body.nodeName ?? ''),
        clientCsr: String(body.clientCsr ?? ''),
        servingCsr: String(body.servingCsr ?? ''),
        addresses: Array.isArray(body.addresses) ? body.addresses.map(String) : [],
      });
      this.#log.info({ node: body.nodeName }, 'node joined: certificates issued');
      reply(res, 200, certs);
    } catch (err) {
      if (err instanceof InvalidError || err instanceof SyntaxError)
        reply(res, 400, failure(400, 'BadRequest', err.message));
      else throw err;
    }
    return true;
  }
}
