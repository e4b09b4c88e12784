import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { builtinTypes } from '../api/kinds/index.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../storage/store.ts';
import { DefaultIngressClass } from './admission/default-ingress-class.ts';
import { DefaultStorageClass } from './admission/default-storage-class.ts';
import {
  DefaultTolerationSeconds,
  type DefaultTolerationSecondsOptions,
} from './admission/default-toleration-seconds.ts';
import { LimitRanger } from './admission/limit-ranger.ts';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.ts';
import { ResourceQuotaAdmission } from './admission/resource-quota.ts';
import { defaultRanges, ServiceAllocator } from './admission/service-allocator.ts';
import { defaultAdvertiseAddress, listenAddresses } from './advertise.ts';
import {
  type Authenticator,
  type Authorizer,
  allowAll,
  chainAuthenticator,
  isPublicPath,
  type TokenFile,
  type UserInfo,
} from './auth.ts';
import { bootstrap } from './bootstrap.ts';
import { negotiate, send, sendStatus } from './content.ts';
import { watchCrds } from './crd-watcher.ts';
import { aggregated, apiGroup, apiGroupList, apiVersions, resourceList } from './discovery.ts';
import type { SubresourceHandlers } from './extensions.ts';
import { NamespaceFinalizer } from './namespace-finalizer.ts';
import { nodeAuthorizer } from './node-authorizer.ts';
import { NodeJoin } from './node-join.ts';
import { nodeSubresources } from './node-proxy.ts';
import { ObjectStore } from './object-store.ts';
import { OpenApi } from './openapi.ts';
import type { Pki } from './pki.ts';
import { parseRequestInfo } from './request-info.ts';
import { handleResource } from './rest.ts';
import { errorContext } from './rest-context.ts';
import { ApiError, toStatus } from './status.ts';
import { TypeRegistry } from './type-registry.ts';

export interface ApiServerOptions {
  store: Store;
  pki: Pki;
  /** Address to listen on; port 0 picks a free one. */
  host: string;
  port: number;
  log: Logger;
  tokens?: TokenFile;
  authorizer?: Authorizer;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (default 60 s). */
  bookmarkIntervalMs?: number;
  /** Subresources served by other parts (pods/log, pods/exec...). */
  subresources?: SubresourceHandlers;
  /**
   * The node whose `subresources` these are (all-in-one); pods bound to other
   * nodes are proxied to their kubelet port (node-proxy.ts). Unset: every pod is local.
   */
  localNode?: string;
  /** Join token for `drover agent --token` (node-join.ts); unset: nodes cannot join with one. */
  joinToken?: string;
  /** A garbage collector runs: Foreground/Orphan deletes add its finalizers (default false). */
  garbageCollection?: boolean;
  /** How often the store is compacted to the revision seen one interval earlier (default 5 min; 0 = never). */
  compactIntervalMs?: number;
  /** Service cluster IP range (default 10.43.0.0/16); its first address is the `kubernetes` Service's. */
  serviceCidr?: string;
  /** The cluster DNS address every node serves (default 10.43.0.10). */
  clusterDNS?: string;
  /**
   * Where the cluster reaches this server: the `kubernetes` Service's endpoint
   * (default: the default-route interface's IPv4). Also listened on when
   * `host` is another specific address (see advertise.ts).
   */
  advertiseAddress?: string;
  /** tolerationSeconds the DefaultTolerationSeconds admission gives new pods (default 300 s each). */
  defaultTolerationSeconds?: DefaultTolerationSecondsOptions;
}

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-drover',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const notFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

/**
 * The Kubernetes API server: HTTPS with client-certificate and token
 * authentication, discovery, OpenAPI v3 and the generic REST handlers over a
 * Store. `start()` resolves once it is listening and the system namespaces exist.
 */
export class ApiServer {
  readonly types = new TypeRegistry(builtinTypes());
  readonly objects: ObjectStore;
  readonly #opts: ApiServerOptions;
  readonly #authn: Authenticator;
  readonly #authz: Authorizer;
  readonly #subresources: SubresourceHandlers;
  readonly #join: NodeJoin | undefined;
  readonly #openapi: OpenApi;
  readonly #abort = new AbortController();
  readonly #namespaces: NamespaceLifecycle;
  #server: https.Server | undefined;
  /** Listeners on further addresses (the advertise address), same handler and port. */
  readonly #extraServers: https.Server[] = [];
  #compactTimer: NodeJS.Timeout | undefined;
  #address = '';

  constructor(opts: ApiServerOptions) {
    this.#opts = opts;
    this.#authn = chainAuthenticator(opts.tokens);
    // Node credentials are confined to their own objects whatever the other authorizer says.
    this.#authz = nodeAuthorizer(opts.authorizer ?? allowAll, {
      pod: (ns, name) => this.objects.get(this.#builtinIn('', 'pods'), ns, name).catch(() => undefined),
    });
    this.#join = opts.joinToken ? new NodeJoin(opts.pki, opts.joinToken, opts.log) : undefined;
    const nsType = this.types.lookup('', 'v1', 'namespaces');
    if (!nsType) throw new Error('namespaces type missing');
    this.#namespaces = new NamespaceLifecycle(() => this.objects, nsType);
    this.objects = new ObjectStore(
      opts.store,
      [
        this.#namespaces,
        new ServiceAllocator(opts.store, {
          ...defaultRanges,
          ...(opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {}),
        }),
        new DefaultTolerationSeconds(opts.defaultTolerationSeconds),
        new DefaultStorageClass(
          () => this.objects,
          this.#builtinIn('storage.k8s.io', 'storageclasses'),
          this.#builtin('persistentvolumeclaims'),
        ),
        new DefaultIngressClass(
          () => this.objects,
          this.#builtinIn('networking.k8s.io', 'ingressclasses'),
          this.#builtinIn('networking.k8s.io', 'ingresses'),
        ),
        // Mutating before validating, as upstream orders them: LimitRanger, then ResourceQuota last.
        new LimitRanger(() => this.objects, this.#builtin('limitranges')),
        new ResourceQuotaAdmission(() => this.objects, this.#builtin('resourcequotas')),
      ],
      {
        gcFinalizers: opts.garbageCollection,
      },
    );
    this.#openapi = new OpenApi(this.types);
    this.#subresources = nodeSubresources({
      objects: this.objects,
      types: this.types,
      local: opts.subresources,
      localNode: opts.localNode,
      tls: { cert: opts.pki.adminCert, key: opts.pki.adminKey, ca: opts.pki.caCert },
      log: opts.log,
    });
  }

  #builtinIn(group: string, plural: string) {
    const t = this.types.lookup(group, 'v1', plural);
    if (!t) throw new Error(`${plural} type missing`);
    return t;
  }

  #builtin(plural: string) {
    const t = this.types.lookup('', 'v1', plural);
    if (!t) throw new Error(`${plural} type missing`);
    return t;
  }

  /** `https://host:port` once started. */
  get url(): string {
    return `https://${this.#address}`;
  }

  async start(): Promise<void> {
    const { pki, log } = this.#opts;
    const newServer = () => {
      const server = https.createServer(
        {
          key: pki.serverKey,
          cert: pki.serverCert,
          ca: pki.caCert,
          requestCert: true,
          rejectUnauthorized: false,
          // Node's cipher list, with OpenSSL's security level 0 so that a client
          // offering only SHA-1 handshake signatures (busybox wget, the in-pod
          // client of the seed lab) can connect, as it can to kube-apiserver (Go's
          // TLS 1.2 still accepts them). Clients offering better get better.
          ciphers: `${tls.DEFAULT_CIPHERS}:@SECLEVEL=0`,
        },
        (req, res) => void this.#handle(req, res),
      );
      server.keepAliveTimeout = 65_000;
      server.on(
        'upgrade',
        (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(req, socket, head),
      );
      return server;
    };
    const listen = (server: https.Server, port: number, host: string) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    const server = newServer();
    await listen(server, this.#opts.port, this.#opts.host);
    this.#server = server;
    const addr = server.address() as AddressInfo;
    const advertise = this.#opts.advertiseAddress ?? defaultAdvertiseAddress();
    for (const host of listenAddresses(this.#opts.host, advertise).slice(1)) {
      const extra = newServer();
      try {
        await listen(extra, addr.port, host);
        this.#extraServers.push(extra);
      } catch (err) {
        log.warn(
          { err, address: `${host}:${addr.port}` },
          'cannot listen on the advertise address: pods cannot reach the API',
        );
      }
    }
    this.#address =
      addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
    const crdType = this.types.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const nsType = this.types.lookup('', 'v1', 'namespaces');
    if (!crdType || !nsType) throw new Error('core types missing');
    await this.#namespaces.start(this.#abort.signal, log);
    await watchCrds({ objects: this.objects, types: this.types, crdType, log, signal: this.#abort.signal });
    await bootstrap(this.objects, this.types, advertise, addr.port, {
      serviceCidr: this.#opts.serviceCidr ?? defaultRanges.serviceCidr,
      clusterDNS: this.#opts.clusterDNS ?? '10.43.0.10',
    });
    await new NamespaceFinalizer(this.objects, this.types, nsType, log).start(this.#abort.signal);
    this.#startCompaction();
    log.info({ url: this.url }, 'api server listening');
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#compactTimer);
    const servers = [...(this.#server ? [this.#server] : []), ...this.#extraServers.splice(0)];
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  #startCompaction(): void {
    const every = this.#opts.compactIntervalMs ?? 5 * 60_000;
    if (every <= 0) return;
    let previous = 0;
    this.#compactTimer = setInterval(() => {
      void (async () => {
        try {
          if (previous > 0) await this.#opts.store.compact(previous);
          previous = await this.#opts.store.currentRevision();
        } catch (err) {
          this.#opts.log.warn({ err }, 'compacting the datastore');
        }
      })();
    }, every);
    this.#compactTimer.unref();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const info = parseRequestInfo(
      req.method ?? 'GET',
      path,
      url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1',
    );
    let ctxType: ReturnType<TypeRegistry['lookup']>;
    try {
      if (this.#join && (await this.#join.handle(req, res, path))) return;
      const user = this.#authn.authenticate(req);
      if (!user && !isPublicPath(path)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      this.#opts.log.trace({ method: req.method, url: req.url, user: user?.name }, 'request');
      if (info) {
        const type = this.types.lookup(info.group, info.version, info.resource ?? '');
        ctxType = type;
        if (!type) throw notFound();
        const output = negotiate(req.headers.accept);
        if (!output)
          throw new ApiError(
            406,
            'NotAcceptable',
            `only the following media types are accepted: application/json, application/yaml`,
          );
        await handleResource({
          req,
          res,
          url,
          info,
          type,
          user: user as UserInfo,
          output,
          objects: this.objects,
          types: this.types,
          authorizer: this.#authz,
          warnings: [],
          bookmarkIntervalMs: this.#opts.bookmarkIntervalMs ?? 60_000,
          extensions: this.#subresources,
        });
        return;
      }
      this.#handleNonResource(req, res, path, url);
    } catch (err) {
      const status = toStatus(err, errorContext(ctxType, info?.name ?? info?.namespace));
      if (status.code >= 500)
        this.#opts.log.error({ err, method: req.method, url: req.url }, 'request failed');
      sendStatus(res, status);
    }
  }

  /** Upgrade requests (exec, attach, portforward) go to the registered upgrade handlers. */
  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (code: number, reason: string, message: string) => {
      const body = JSON.stringify(toStatus(new ApiError(code, reason, message)));
      socket.end(
        `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    try {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const info = parseRequestInfo('POST', url.pathname, false);
      const user = this.#authn.authenticate(req);
      if (!user) return refuse(401, 'Unauthorized', 'Unauthorized');
      const key = `${info?.resource ?? ''}/${info?.subresource ?? ''}`;
      const handler = this.#subresources.upgrade?.[key];
      if (!info?.name || !info.subresource || !handler)
        return refuse(404, 'NotFound', `${key} is not served`);
      const decision = await this.#authz.authorize({
        user,
        verb: 'create',
        group: info.group,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
      });
      if (!decision.allowed)
        return refuse(403, 'Forbidden', `User "${user.name}" cannot create resource "${key}"`);
      await handler({ req, url, user, namespace: info.namespace, name: info.name }, socket, head);
    } catch (err) {
      this.#opts.log.warn({ err, url: req.url }, 'upgrade request failed');
      socket.destroy();
    }
  }

  #handleNonResource(req: IncomingMessage, res: ServerResponse, path: string, url: URL) {
    if (path === '/version') return send(res, 200, serverVersion);
    if (['/healthz', '/livez', '/readyz'].includes(path) || /^\/(healthz|livez|readyz)\//.test(path)) {
      res.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(
        url.searchParams.has('verbose') ? `[+]ping ok\n[+]etcd ok\n${path.slice(1)} check passed\n` : 'ok',
      );
      return;
    }
    if (path === '/api' || path === '/apis') {
      const output = negotiate(req.headers.accept, true) ?? { kind: 'json' };
      if (output.kind === 'discovery')
        return send(res, 200, aggregated(this.types, path === '/api'), {
          output,
          headers: { Vary: 'Accept' },
        });
      return send(res, 200, path === '/api' ? apiVersions(this.#address) : apiGroupList(this.types), {
        output,
        headers: { Vary: 'Accept' },
      });
    }
    const gv = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (gv) {
      const group = gv[2] ?? '';
      const version = gv[1] ?? gv[3] ?? '';
      if (!this.types.hasGroupVersion(group, version)) throw notFound();
      return send(res, 200, resourceList(this.types, group, version));
    }
    const g = /^\/apis\/([^/]+)$/.exec(path);
    if (g) {
      const body = apiGroup(this.types, g[1] ?? '');
      if (!body) throw notFound();
      return send(res, 200, body);
    }
    if (path === '/openapi/v3') return send(res, 200, this.#openapi.index());
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.#openapi.document(path.slice('/openapi/v3/'.length));
      if (!doc) throw notFound();
      const hash = url.searchParams.get('hash');
      if (hash && hash !== doc.hash) {
        res.writeHead(301, { Location: `${path}?hash=${doc.hash}` });
        res.end();
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'application/json',
        ETag: `"${doc.hash}"`,
        'Cache-Control': hash ? 'public, immutable' : 'no-cache, private',
        'Content-Length': Buffer.byteLength(doc.body),
      });
      res.end(doc.body);
      return;
    }
    throw notFound();
  }
}
