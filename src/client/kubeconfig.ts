import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { InvalidError } from '../lib/errors.ts';

/** Where and how to reach an API server; what HttpClient needs. PEM strings, not paths. */
export interface Connection {
  /** `https://host:port` (or `http://` for tests behind a plain listener). */
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /** Sent as User-Agent; shows up in managedFields as the default field manager. */
  userAgent?: string;
}

interface Named<T> {
  name?: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

/**
 * Reads a kubeconfig file and resolves the current (or given) context into a
 * Connection: inline `*-data` fields or files relative to the kubeconfig,
 * client certificates or a bearer token.
 */
export async function loadKubeconfig(file: string, context?: string): Promise<Connection> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new InvalidError(`reading kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
  });
  return connectionFromKubeconfig(text, path.dirname(file), context);
}

export async function connectionFromKubeconfig(
  text: string,
  baseDir: string,
  contextName?: string,
): Promise<Connection> {
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new InvalidError('parsing kubeconfig: not a mapping');
  const pick = <T>(list: unknown, name: string | undefined, field: 'cluster' | 'user' | 'context'): T => {
    const found = (Array.isArray(list) ? (list as Named<T>[]) : []).find((e) => e.name === name);
    if (!found?.[field]) throw new InvalidError(`parsing kubeconfig: no ${field} named "${name}"`);
    return found[field] as T;
  };
  const ctxName = contextName ?? (doc['current-context'] as string | undefined);
  const ctx = pick<{ cluster?: string; user?: string }>(doc.contexts, ctxName, 'context');
  const cluster = pick<Record<string, string | boolean | undefined>>(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user ? pick<Record<string, string | undefined>>(doc.users, ctx.user, 'user') : {};
  const material = async (data: unknown, file: unknown): Promise<string | undefined> => {
    if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
    if (typeof file === 'string') return readFile(path.resolve(baseDir, file), 'utf8');
    return undefined;
  };
  const server = cluster.server;
  if (typeof server !== 'string') throw new InvalidError('parsing kubeconfig: cluster has no server');
  const tokenFromFile = await material(undefined, user.tokenFile);
  return {
    server,
    ca: await material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: await material(user['client-certificate-data'], user['client-certificate']),
    key: await material(user['client-key-data'], user['client-key']),
    token: user.token ?? tokenFromFile?.trim(),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}
