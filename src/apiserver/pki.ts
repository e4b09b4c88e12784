import { fork } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as X509 from '@peculiar/x509';
import { UnavailableError } from '../lib/errors.ts';

// @peculiar/x509 declares its parameters with DOM WebCrypto types, which this
// project's `lib` does not include; Node's webcrypto objects are those at runtime.
type DomKey = X509.X509CertificateCreateSelfSignedParams['keys']['privateKey'];
const dom = (k: webcrypto.CryptoKey): DomKey => k as unknown as DomKey;

/** PEM material the server needs: its CA, serving pair and the admin client pair. */
export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
}

const files = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'serving.crt',
  serverKey: 'serving.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const satisfies Record<keyof Pki, string>;

const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;
const tenYears = 10 * 365 * 24 * 3600 * 1000;

/** Names the serving certificate covers: loopback, this host, the in-cluster service. */
export function servingNames(extra: string[] = []): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc']);
  dns.add('kubernetes.default.svc.cluster.local');
  dns.add(os.hostname());
  const ips = new Set(['127.0.0.1', '::1', '10.43.0.1']);
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') ips.add(a.address);
  }
  for (const name of extra) (/^[\d.:]+$/.test(name) ? ips : dns).add(name);
  return { dns: [...dns], ips: [...ips] };
}

/**
 * Loads the cluster PKI from `dir`, generating whatever is missing on first
 * start. The CA is created once and kept; leaf certificates are re-issued only
 * when their files are absent.
 */
export async function loadOrCreatePki(dir: string, extraNames: string[] = []): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await readExisting(dir);
  if (existing) return existing;
  try {
    const pki = await generateInChild(extraNames);
    for (const [field, file] of Object.entries(files)) {
      const isKey = file.endsWith('.key');
      await writeFile(path.join(dir, file), pki[field as keyof Pki], { mode: isKey ? 0o600 : 0o644 });
    }
    return pki;
  } catch (err) {
    throw new UnavailableError(`generating cluster certificates in ${dir}: ${String(err)}`, { cause: err });
  }
}

/**
 * Runs the generation in a short-lived child process: the X.509 library and
 * its dependencies never load into the server, whose resident memory would
 * otherwise keep them (a worker thread's heap is not returned to the OS).
 */
async function generateInChild(extraNames: string[]): Promise<Pki> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, DROVER_PKI_NAMES: JSON.stringify(extraNames) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise<Pki>((resolve, reject) => {
    child.once('message', (m: { pki?: Pki; error?: string }) =>
      m.pki ? resolve(m.pki) : reject(new Error(m.error)),
    );
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`certificate generator exited with code ${code}`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const names = JSON.parse(process.env.DROVER_PKI_NAMES ?? '[]') as string[];
  generatePki(names).then(
    (pki) => process.send?.({ pki }, () => process.exit(0)),
    (err: unknown) => process.send?.({ error: String(err) }, () => process.exit(1)),
  );
}

async function readExisting(dir: string): Promise<Pki | undefined> {
  const out: Partial<Pki> = {};
  for (const [field, file] of Object.entries(files)) {
    try {
      out[field as keyof Pki] = await readFile(path.join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  }
  return out as Pki;
}

// @peculiar/x509 builds the certificates over WebCrypto (DESIGN.md: a small X.509
// library); it is imported lazily because only the first start needs it.
async function generatePki(extraNames: string[]): Promise<Pki> {
  await import('reflect-metadata'); // tsyringe inside @peculiar/x509 needs the polyfill
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const now = new Date(Date.now() - 60_000);
  const notAfter = new Date(now.getTime() + tenYears);
  const caKeys = await webcrypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=drover-ca@${Math.floor(Date.now() / 1000)}`,
    notBefore: now,
    notAfter,
    keys: { publicKey: dom(caKeys.publicKey), privateKey: dom(caKeys.privateKey) },
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(dom(caKeys.publicKey)),
    ],
  });
  const issue = async (subject: string, usage: 'server' | 'client', sans: X509.JsonGeneralName[]) => {
    const keys = await webcrypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
    const eku = usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
    const extensions: X509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([eku]),
      await x509.AuthorityKeyIdentifierExtension.create(dom(caKeys.publicKey)),
    ];
    if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: ca.subject,
      notBefore: now,
      notAfter,
      publicKey: dom(keys.publicKey),
      signingKey: dom(caKeys.privateKey),
      signingAlgorithm,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
  };
  const names = servingNames(extraNames);
  const sans: X509.JsonGeneralName[] = [
    ...names.dns.map((value) => ({ type: 'dns' as const, value })),
    ...names.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const server = await issue('CN=kube-apiserver', 'server', sans);
  const admin = await issue('CN=admin, O=system:masters', 'client', []);
  return {
    caCert: ca.toString('pem'),
    caKey: await exportKey(caKeys.privateKey),
    serverCert: server.cert,
    serverKey: server.key,
    adminCert: admin.cert,
    adminKey: admin.key,
  };
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}
