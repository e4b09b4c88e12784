import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Who is calling. */
export interface UserInfo {
  name: string;
  groups: string[];
}

/** Turns a request into a user, or undefined when it carries no (valid) credentials. */
export interface Authenticator {
  authenticate(req: IncomingMessage): UserInfo | undefined;
}

/** What is being attempted, in RBAC terms. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** For non-resource requests (`/healthz`, `/version`). */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  reason?: string;
}

/** What a user may do in a namespace, as SelfSubjectRulesReview reports it. */
export interface RuleSet {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
}

/** The authorization hook; RBAC plugs in here later. */
export interface Authorizer {
  authorize(attrs: Attributes): Promise<Decision> | Decision;
  /** Optional: the rules behind decisions (for `kubectl auth can-i --list`). */
  rulesFor?(user: UserInfo, namespace: string): Promise<RuleSet> | RuleSet;
}

/** Allows everything (the default until RBAC lands). */
export const allowAll: Authorizer = {
  authorize: () => ({ allowed: true }),
  rulesFor: () => ({
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  }),
};

// Parsing the peer certificate is costly; a connection's certificate never changes.
const socketUsers = new WeakMap<object, UserInfo | null>();

/** Verified client certificate: CN is the user, O entries the groups. */
export function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  const cached = socketUsers.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const user = parseCertificateUser(socket);
  socketUsers.set(socket, user ?? null);
  return user;
}

function parseCertificateUser(socket: TLSSocket): UserInfo | undefined {
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  if (!cn) return undefined;
  const o = cert.subject.O;
  const groups = Array.isArray(o) ? o : o ? [o] : [];
  return { name: Array.isArray(cn) ? (cn[0] ?? '') : cn, groups: [...groups, 'system:authenticated'] };
}

/** Static bearer tokens: one `token,user,uid,"group1,group2"` line per token (kube-apiserver's format). */
export class TokenFile {
  readonly #tokens = new Map<string, UserInfo>();

  static async load(path: string): Promise<TokenFile> {
    const t = new TokenFile();
    const text = await readFile(path, 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const m = /^([^,]+),([^,]+),([^,]*)(?:,"?([^"]*)"?)?/.exec(line.trim());
      if (!m) continue;
      const groups = (m[4] ?? '').split(',').filter((g) => g !== '');
      t.add(m[1] ?? '', { name: m[2] ?? '', groups });
    }
    return t;
  }

  add(token: string, user: UserInfo): void {
    this.#tokens.set(token, { name: user.name, groups: [...user.groups, 'system:authenticated'] });
  }

  lookup(token: string): UserInfo | undefined {
    for (const [t, u] of this.#tokens) {
      const a = Buffer.from(t);
      const b = Buffer.from(token);
      if (a.length === b.length && timingSafeEqual(a, b)) return u;
    }
    return undefined;
  }
}

/** Client certificates first, then `Authorization: Bearer` tokens. */
export function chainAuthenticator(tokens: TokenFile | undefined): Authenticator {
  return {
    authenticate(req) {
      const fromCert = certificateUser(req);
      if (fromCert) return fromCert;
      const h = req.headers.authorization;
      if (tokens && h?.startsWith('Bearer ')) return tokens.lookup(h.slice(7).trim());
      return undefined;
    },
  };
}

/** Paths anonymous callers may reach. */
export function isPublicPath(path: string): boolean {
  return (
    path === '/version' ||
    path === '/healthz' ||
    path === '/livez' ||
    path === '/readyz' ||
    path.startsWith('/healthz/') ||
    path.startsWith('/livez/') ||
    path.startsWith('/readyz/')
  );
}
