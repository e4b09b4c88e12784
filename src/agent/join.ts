/**
 * The agent's side of joining (TLS bootstrap): with the server's join token
 * (`K10<CA hash>::node:<secret>`, see apiserver/node-join.ts) it fetches and
 * pins the cluster CA, makes two key pairs that never leave this machine,
 * and trades their certificate requests for a client certificate
 * (CN=system:node:<name>, O=system:nodes) and a kubelet serving
 * certificate. Everything is kept under `dir` (keys mode 0600), and a
 * restart reuses it without the token.
 */
import { createHash, webcrypto } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { InvalidError, UnauthorizedError, UnavailableError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

export interface NodeCredentials {
  ca: string;
  clientCert: string;
  clientKey: string;
  servingCert: string;
  servingKey: string;
}

export interface JoinOptions {
  server: string;
  token: string;
  nodeName: string;
  /** Where the credentials are kept. */
  dir: string;
  /** IPs and names the kubelet serving certificate covers. */
  addresses: string[];
  /** A CA file given by the operator; else the token's hash pins the CA fetched from the server. */
  ca?: string;
  log: Logger;
}

const files = {
  ca: 'ca.crt',
  clientCert: 'node.crt',
  clientKey: 'node.key',
  servingCert: 'kubelet.crt',
  servingKey: 'kubelet.key',
} as const satisfies Record<keyof NodeCredentials, string>;

async function readStored(dir: string): Promise<NodeCredentials | undefined> {
  const out: Partial<NodeCredentials> = {};
  for (const [k, f] of Object.entries(files)) {
    try {
      out[k as keyof NodeCredentials] = await readFile(join(dir, f), 'utf8');
    } catch {
      return undefined;
    }
  }
  return out as NodeCredentials;
}

function call(
  url: URL,
  o: { method?: string; ca?: string; token?: string; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: o.method ?? 'GET',
        ca: o.ca,
        // Only /cacerts is read without verification, and its answer is checked against the token.
        rejectUnauthorized: o.ca !== undefined,
        headers: {
          ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
          ...(o.body ? { 'Content-Type': 'application/json' } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

async function keyAndCsr(x509: typeof X509, nodeName: string): Promise<{ key: string; csr: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  type DomPair = X509.Pkcs10CertificateRequestCreateParams['keys'];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=system:node:${nodeName}, O=system:nodes`,
    keys: keys as unknown as DomPair,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return {
    key: `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`,
    csr: csr.toString('pem'),
  };
}

/** The stored credentials, or new ones obtained with the join token. */
export async function loadOrJoin(o: JoinOptions): Promise<NodeCredentials> {
  const stored = await readStored(o.dir);
  if (stored) {
    o.log.info({ dir: o.dir }, 'using the stored node certificate');
    return stored;
  }
  const m = /^K10([0-9a-f]{64})::[^:]+:(.+)$/.exec(o.token.trim());
  const base = new URL(o.server);
  let ca = o.ca;
  try {
    if (!ca) {
      if (!m) throw new InvalidError('joining: the token carries no CA hash; give --ca-file');
      const got = await call(new URL('/cacerts', base), {});
      if (got.status !== 200) throw new UnavailableError(`joining: GET /cacerts answered ${got.status}`);
      if (createHash('sha256').update(got.body).digest('hex') !== m[1])
        throw new UnauthorizedError("joining: the server's CA does not match the token's hash");
      ca = got.body;
    }
    await import('reflect-metadata'); // tsyringe inside @peculiar/x509 needs the polyfill
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    const client = await keyAndCsr(x509, o.nodeName);
    const serving = await keyAndCsr(x509, o.nodeName);
    const res = await call(new URL('/v1-drover/node-certificate', base), {
      method: 'POST',
      ca,
      token: o.token.trim(),
      body: JSON.stringify({
        nodeName: o.nodeName,
        clientCsr: client.csr,
        servingCsr: serving.csr,
        addresses: o.addresses,
      }),
    });
    if (res.status === 401) throw new UnauthorizedError('joining: the server refused the join token');
    if (res.status !== 200)
      throw new UnavailableError(`joining: the server answered ${res.status}: ${res.body}`);
    const certs = JSON.parse(res.body) as { clientCert: string; servingCert: string };
    const creds: NodeCredentials = {
      ca,
      clientCert: certs.clientCert,
      clientKey: client.key,
      servingCert: certs.servingCert,
      servingKey: serving.key,
    };
    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    for (const [k, f] of Object.entries(files))
      await writeFileAtomic(
        join(o.dir, f),
        creds[k as keyof NodeCredentials],
        f.endsWith('.key') ? 0o600 : 0o644,
      );
    o.log.info({ node: o.nodeName }, 'joined: node certificate stored');
    return creds;
  } catch (err) {
    if (err instanceof InvalidError || err instanceof UnauthorizedError || err instanceof UnavailableError)
      throw err;
    throw new UnavailableError(`joining ${o.server}: ${String(err)}`, { cause: err });
  }
}
