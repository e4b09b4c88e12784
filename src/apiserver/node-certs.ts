/**
 * Certificates for joining nodes, signed by the cluster CA from the node's
 * own PKCS#10 requests (the private keys never leave the node): a client
 * certificate `CN=system:node:<name>, O=system:nodes` for the API, and a
 * serving certificate for its kubelet port. The subject and names are the
 * server's choice; only the public key comes from the request.
 */
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { InvalidError } from '../lib/errors.ts';
import type { Pki } from './pki.ts';

type X509Module = typeof X509;
type DomKey = X509.X509CertificateCreateSelfSignedParams['keys']['privateKey'];

const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;
const oneYear = 365 * 24 * 3600 * 1000;

let loaded: Promise<X509Module> | undefined;

// @peculiar/x509 loads on the first join only (the server does not otherwise need it).
function x509(): Promise<X509Module> {
  loaded ??= (async () => {
    await import('reflect-metadata'); // tsyringe inside @peculiar/x509 needs the polyfill
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto as unknown as Parameters<typeof m.cryptoProvider.set>[0]);
    return m;
  })();
  return loaded;
}

export const nodeNamePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface NodeCertRequest {
  nodeName: string;
  /** PEM PKCS#10 request for the API client certificate. */
  clientCsr: string;
  /** PEM PKCS#10 request for the kubelet serving certificate. */
  servingCsr: string;
  /** Addresses the serving certificate covers (the node's IPs and names). */
  addresses: string[];
}

export interface NodeCerts {
  clientCert: string;
  servingCert: string;
  ca: string;
}

async function caKey(pki: Pki): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pki.caKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

/** Signs a node's two certificate requests; throws InvalidError for a bad name or request. */
export async function signNodeCerts(pki: Pki, r: NodeCertRequest): Promise<NodeCerts> {
  if (!nodeNamePattern.test(r.nodeName) || r.nodeName.length > 253)
    throw new InvalidError(`joining node: invalid node name ${JSON.stringify(r.nodeName)}`);
  const m = await x509();
  const ca = new m.X509Certificate(pki.caCert);
  const signingKey = (await caKey(pki)) as unknown as DomKey;
  const now = new Date(Date.now() - 60_000);
  const sign = async (pem: string, usage: 'client' | 'server'): Promise<string> => {
    let csr: X509.Pkcs10CertificateRequest;
    try {
      csr = new m.Pkcs10CertificateRequest(pem);
    } catch (err) {
      throw new InvalidError(`joining node: unreadable ${usage} certificate request`, { cause: err });
    }
    if (!(await csr.verify()))
      throw new InvalidError(`joining node: the ${usage} certificate request is not self-signed correctly`);
    const extensions: X509.Extension[] = [
      new m.BasicConstraintsExtension(false, undefined, true),
      new m.KeyUsagesExtension(m.KeyUsageFlags.digitalSignature | m.KeyUsageFlags.keyEncipherment, true),
      new m.ExtendedKeyUsageExtension([
        usage === 'client' ? m.ExtendedKeyUsage.clientAuth : m.ExtendedKeyUsage.serverAuth,
      ]),
    ];
    if (usage === 'server') {
      const names = [...new Set([r.nodeName, ...r.addresses])];
      extensions.push(
        new m.SubjectAlternativeNameExtension(
          names.map((value) => ({
            type: /^[\d.]+$|:/.test(value) ? ('ip' as const) : ('dns' as const),
            value,
          })),
        ),
      );
    }
    const cert = await m.X509CertificateGenerator.create({
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      subject: `CN=system:node:${r.nodeName}, O=system:nodes`,
      issuer: ca.subject,
      notBefore: now,
      notAfter: new Date(now.getTime() + oneYear),
      publicKey: csr.publicKey,
      signingKey,
      signingAlgorithm,
      extensions,
    });
    return cert.toString('pem');
  };
  return {
    clientCert: await sign(r.clientCsr, 'client'),
    servingCert: await sign(r.servingCsr, 'server'),
    ca: pki.caCert,
  };
}
