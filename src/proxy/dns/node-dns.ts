/**
 * Cluster DNS on one node: the address (a dummy link, see interface.ts), the
 * caches it answers from, the forwarder to the host's resolvers, and the
 * UDP/TCP server, started together and stopped together.
 */
import type { InformerFactory } from '../../client/index.ts';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { TtlCache } from './cache.ts';
import { ClusterView } from './cluster-view.ts';
import { type Forwarded, Forwarder } from './forwarder.ts';
import { DnsHandler } from './handler.ts';
import { addDnsLink, dnsLinkName, removeDnsLink } from './interface.ts';
import { ResolvConf, type Upstream } from './resolv-conf.ts';
import { DnsServer } from './server.ts';
import { ClusterZone } from './zone.ts';

export interface NodeDnsOptions {
  /** Shared informers (the agent's); ours are added to it and start with it. */
  informers: InformerFactory;
  /** The address to serve on, e.g. 10.43.0.10. */
  clusterDNS: string;
  /** Cluster domain (default cluster.local). */
  domain?: string;
  /** Kernel-object name prefix: the link is `<prefix>dns0` (`drover-dns0` without one). */
  namePrefix?: string;
  /** Where the host's resolvers are listed (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Fixed upstreams instead of resolv.conf (tests). */
  upstreams?: Upstream[];
  /** Default 53. */
  port?: number;
  /** Create the dummy link holding clusterDNS (default true; false when the address is already local). */
  manageLink?: boolean;
  log: Logger;
}

/** How often binding is retried when the port is taken (another resolver, a previous run still exiting). */
const bindRetryMs = 2000;

export class NodeDns {
  readonly #server: DnsServer;
  readonly #forwarder: Forwarder;
  readonly #link: string | undefined;
  #port = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(server: DnsServer, forwarder: Forwarder, link: string | undefined) {
    this.#server = server;
    this.#forwarder = forwarder;
    this.#link = link;
  }

  /** The port served on; 0 while binding is still being retried. */
  get port(): number {
    return this.#port;
  }

  /**
   * Serves cluster DNS until stop(). Answers SERVFAIL for cluster names until
   * the caches have synced. Throws only when the address cannot be made
   * local; a port that cannot be bound yet is retried in the background,
   * with the address kept local meanwhile (pods' queries must never be
   * routed off the node towards a service IP nobody serves).
   */
  static async start(o: NodeDnsOptions): Promise<NodeDns> {
    const log = o.log;
    const { view } = ClusterView.fromInformers(o.informers);
    const zone = new ClusterZone({ view, domain: o.domain ?? 'cluster.local', clusterDNS: o.clusterDNS });
    const resolv = new ResolvConf({
      path: o.resolvConf ?? '/etc/resolv.conf',
      isSelf: (ip) => ip === o.clusterDNS,
    });
    const fixed = o.upstreams;
    const forwarder = new Forwarder({
      upstreams: fixed ? () => fixed : () => resolv.upstreams(),
      log,
      cache: new TtlCache<Forwarded>({ maxEntries: 10_000 }),
    });
    const handler = new DnsHandler({ zone, forwarder, log });
    const server = new DnsServer({ handler, log });
    const link = o.manageLink === false ? undefined : dnsLinkName(o.namePrefix);
    if (link) await addDnsLink(link, o.clusterDNS);
    const dns = new NodeDns(server, forwarder, link);
    const bind = async (): Promise<void> => {
      try {
        dns.#port = await server.listen(o.clusterDNS, o.port ?? 53);
        log.info(
          { address: o.clusterDNS, port: dns.#port, link, domain: zone.domain },
          'cluster dns serving',
        );
      } catch (err) {
        log.error(
          { address: o.clusterDNS, err: describeError(err) },
          'cluster dns cannot listen yet; retrying',
        );
        if (!dns.#stopped) dns.#retry = setTimeout(() => void bind(), bindRetryMs);
      }
    };
    await bind();
    return dns;
  }

  /** Stops serving and removes the link. The informers stop with their factory. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#server.close();
    this.#forwarder.close();
    if (this.#link) await removeDnsLink(this.#link);
  }
}
