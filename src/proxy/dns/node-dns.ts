/**
 * Cluster DNS on one node: the address (a dummy link, see interface.ts), the
 * caches it answers from, the forwarder to the host's resolvers, and the
 * UDP/TCP server, started together and stopped together.
 */
import type { InformerFactory } from '../../client/index.ts';
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
  /** Kernel-object name prefix: the link is `<prefix>dns0` (`drvdns0` without one). */
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

export class NodeDns {
  readonly port: number;
  readonly #server: DnsServer;
  readonly #forwarder: Forwarder;
  readonly #link: string | undefined;

  private constructor(port: number, server: DnsServer, forwarder: Forwarder, link: string | undefined) {
    this.port = port;
    this.#server = server;
    this.#forwarder = forwarder;
    this.#link = link;
  }

  /** Serves cluster DNS until stop(). Answers SERVFAIL for cluster names until the caches have synced. */
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
    try {
      if (link) await addDnsLink(link, o.clusterDNS);
      const port = await server.listen(o.clusterDNS, o.port ?? 53);
      log.info({ address: o.clusterDNS, port, link, domain: zone.domain }, 'cluster dns serving');
      return new NodeDns(port, server, forwarder, link);
    } catch (err) {
      forwarder.close();
      await server.close();
      if (link) await removeDnsLink(link).catch(() => undefined);
      throw err;
    }
  }

  /** Stops serving and removes the link. The informers stop with their factory. */
  async stop(): Promise<void> {
    await this.#server.close();
    this.#forwarder.close();
    if (this.#link) await removeDnsLink(this.#link);
  }
}
