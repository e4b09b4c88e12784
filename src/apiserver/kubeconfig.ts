import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Pki } from './pki.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig for the admin user (client certificate), like k3s writes. */
export function adminKubeconfig(pki: Pki, server: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'drover', cluster: { server, 'certificate-authority-data': b64(pki.caCert) } }],
    users: [
      {
        name: 'admin',
        user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) },
      },
    ],
    contexts: [{ name: 'drover', context: { cluster: 'drover', user: 'admin' } }],
    'current-context': 'drover',
    preferences: {},
  });
}

export async function writeKubeconfig(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
}
