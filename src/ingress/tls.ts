/**
 * Certificates: a Secret's tls.crt/tls.key checked before nginx ever sees
 * them (one bad Secret must not make the whole configuration fail `nginx
 * -t`), and the self-signed fallback certificate served when no Secret
 * matches the requested name, as ingress-nginx's "Fake Certificate".
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { UnavailableError } from '../lib/errors.ts';
import type { Secret } from './model.ts';

const run = promisify(execFile);

/** The Secret's certificate chain and key as one PEM, or why it cannot be served. */
export function pemFromSecret(secret: Secret): { pem: string } | { error: string } {
  const crt = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (!crt || !key) return { error: 'secret has no tls.crt and tls.key' };
  const crtPem = Buffer.from(crt, 'base64').toString('utf8');
  const keyPem = Buffer.from(key, 'base64').toString('utf8');
  try {
    const cert = new X509Certificate(crtPem);
    const privateKey = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(privateKey)) return { error: 'tls.key does not match tls.crt' };
    if (Date.parse(cert.validTo) < Date.now()) return { error: `certificate expired at ${cert.validTo}` };
  } catch (err) {
    return { error: `invalid certificate or key: ${(err as Error).message}` };
  }
  return { pem: `${crtPem.trim()}\n${keyPem.trim()}\n` };
}

/** openssl arguments for a self-signed P-256 certificate and key (the fallback; tests make Secrets with it). */
export function selfSignedCertArgs(o: {
  subject: string;
  san?: string;
  days: number;
  keyPath: string;
  certPath: string;
}): string[] {
  return [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    String(o.days),
    '-subj',
    o.subject,
    ...(o.san ? ['-addext', `subjectAltName=${o.san}`] : []),
    '-keyout',
    o.keyPath,
    '-out',
    o.certPath,
  ];
}

export const fallbackSubject = 'Drover Ingress Controller Fake Certificate';

/** Creates (once) a self-signed certificate + key PEM at `path` with openssl; returns the PEM. */
export async function ensureFallbackCertificate(path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing?.includes('PRIVATE KEY')) return existing;
  const keyPath = `${path}.key`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await run(
      'openssl',
      selfSignedCertArgs({
        subject: `/O=Drover/CN=${fallbackSubject}`,
        san: 'DNS:ingress.local',
        days: 3650,
        keyPath,
        certPath: `${path}.crt`,
      }),
    );
    const pem = `${(await readFile(`${path}.crt`, 'utf8')).trim()}\n${(await readFile(keyPath, 'utf8')).trim()}\n`;
    await writeFile(path, pem, { mode: 0o600 });
    await rm(keyPath, { force: true });
    await rm(`${path}.crt`, { force: true });
    return pem;
  } catch (err) {
    throw new UnavailableError(
      `creating the fallback ingress certificate: ${String((err as { stderr?: string }).stderr || (err as Error).message).trim()}`,
      {
        cause: err,
      },
    );
  }
}
