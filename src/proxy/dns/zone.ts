/**
 * The cluster zone (`cluster.local` by default) and the reverse names of
 * cluster addresses, answered from a ClusterView as the Kubernetes DNS
 * specification (and CoreDNS's kubernetes plugin) lay them out:
 *
 *   <svc>.<ns>.svc.<zone>                 A/AAAA: cluster IPs, or ready endpoints if headless;
 *                                         CNAME for ExternalName; SRV for every port
 *   <host>.<svc>.<ns>.svc.<zone>          an endpoint: its hostname (StatefulSet pods) or dashed IP
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV per named port (per endpoint if headless)
 *   <a-b-c-d>.<ns>.pod.<zone>             A of a pod that has that IP in that namespace
 *   <reverse IP>.in-addr.arpa / ip6.arpa  PTR of a Service, a named endpoint or a pod
 *
 * A name that exists with no record of the asked type is NODATA (NOERROR,
 * no answer, SOA in authority); a name with nothing at or below it is
 * NXDOMAIN. Reverse names of unknown addresses are not ours (the caller
 * forwards them, as CoreDNS's `fallthrough in-addr.arpa` does).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer, SrvAnswer } from 'dns-packet';
import {
  type ClusterView,
  clusterIPsOf,
  type EndpointSlice,
  isHeadless,
  type Service,
  serviceNameLabel,
} from './cluster-view.ts';
import { addressFromDashed, addressFromReverse, canonicalName, dashedAddress, labelsUnder } from './names.ts';

export interface ZoneAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** The answer ends in a CNAME to this name: the caller resolves it for the same type. */
  chase?: string;
}

export interface ZoneOptions {
  view: ClusterView;
  /** Cluster domain, e.g. `cluster.local`. */
  domain: string;
  /** The DNS server's own address (`ns.dns.<zone>`). */
  clusterDNS: string;
  /** TTL of every record (default 5 s, as CoreDNS). */
  ttl?: number;
}

type Endpoint = NonNullable<EndpointSlice['endpoints']>[number];

export class ClusterZone {
  readonly domain: string;
  readonly #view: ClusterView;
  readonly #ttl: number;
  readonly #ns: string;
  readonly #soa: Answer;

  constructor(o: ZoneOptions) {
    this.domain = canonicalName(o.domain);
    this.#view = o.view;
    this.#ttl = o.ttl ?? 5;
    this.#ns = o.clusterDNS;
    const d = this.domain;
    this.#soa = {
      name: d,
      type: 'SOA',
      ttl: this.#ttl,
      data: {
        mname: `ns.dns.${d}`,
        rname: `hostmaster.${d}`,
        serial: Math.floor(Date.now() / 1000),
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.#ttl,
      },
    };
  }

  /** Changes whenever an answer may have; undefined when answers must not be cached. */
  generation(): number | undefined {
    return this.#view.generation();
  }

  /**
   * Answers `qname` (as asked; owner names echo its case) for `qtype`, or
   * undefined when the name is not ours to answer.
   */
  resolve(qname: string, qtype: string): ZoneAnswer | undefined {
    const name = canonicalName(qname);
    const owner = qname.endsWith('.') ? qname.slice(0, -1) : qname;
    const labels = labelsUnder(name, this.domain);
    if (!labels) return name.endsWith('.arpa') ? this.#reverse(name, owner, qtype) : undefined;
    if (!this.#view.isSynced()) return { rcode: 'SERVFAIL', answers: [], authorities: [], additionals: [] };
    if (labels.length === 0) return this.#apex(owner, qtype);
    const top = labels.at(-1);
    if (top === 'svc') return this.#svcTree(owner, qtype, labels.slice(0, -1));
    if (top === 'pod') return this.#podTree(owner, qtype, labels.slice(0, -1));
    if (top === 'dns' && labels.length === 1) return this.#nodata();
    if (top === 'dns' && labels.length === 2 && labels[0] === 'ns')
      return this.#records(this.#addressRecords(owner, [this.#ns], qtype));
    return this.#nxdomain();
  }

  /**
   * `<svc>.<ns>` and `<svc>.<ns>.svc` of an existing Service, answered as a
   * CNAME to its full name plus that name's records: what a pod's search list
   * (`svc.<zone>`, `<zone>`, tried first under ndots:5) gives a stub resolver
   * that searches. Some do not search names that contain a dot (busybox 1.3x
   * nslookup), so `nslookup kubernetes.default` works only with this.
   * Undefined for every other name.
   */
  completeShortName(qname: string, qtype: string): ZoneAnswer | undefined {
    const name = canonicalName(qname);
    const l = name.split('.');
    const [svc = '', ns = ''] = l;
    let full: string;
    if (l.length === 2) full = `${name}.svc.${this.domain}`;
    else if (l.length === 3 && l[2] === 'svc') full = `${name}.${this.domain}`;
    else return undefined;
    if (!this.#view.isSynced() || !this.#view.service(ns, svc)) return undefined;
    const target = this.resolve(full, qtype);
    if (!target) return undefined;
    const owner = qname.endsWith('.') ? qname.slice(0, -1) : qname;
    const cname: Answer = { name: owner, type: 'CNAME', ttl: this.#ttl, data: full };
    if (qtype === 'CNAME') return this.#ok([cname]);
    return { ...target, answers: [cname, ...target.answers] };
  }

  #apex(owner: string, qtype: string): ZoneAnswer {
    if (qtype === 'SOA') return this.#ok([{ ...this.#soa, name: owner }]);
    if (qtype === 'NS')
      return this.#ok([{ name: owner, type: 'NS', ttl: this.#ttl, data: `ns.dns.${this.domain}` }]);
    return this.#nodata();
  }

  #svcTree(owner: string, qtype: string, l: string[]): ZoneAnswer {
    const v = this.#view;
    if (l.length === 0) return this.#nodata();
    const ns = l.at(-1) ?? '';
    if (l.length === 1) return v.hasServicesIn(ns) ? this.#nodata() : this.#nxdomain();
    const svc = v.service(ns, l.at(-2) ?? '');
    if (!svc) return this.#nxdomain();
    if (l.length === 2) return this.#service(owner, qtype, svc);
    if (svc.spec?.type === 'ExternalName') return this.#nxdomain();
    const [a = '', b = ''] = l;
    if (l.length === 3 && a.startsWith('_'))
      return this.#ports(svc, '', a).length > 0 ? this.#nodata() : this.#nxdomain();
    if (l.length === 3) return this.#endpoint(owner, qtype, svc, a);
    if (l.length === 4 && a.startsWith('_') && b.startsWith('_')) return this.#srv(owner, qtype, svc, a, b);
    return this.#nxdomain();
  }

  #service(owner: string, qtype: string, svc: Service): ZoneAnswer {
    const ext = svc.spec?.externalName;
    if (svc.spec?.type === 'ExternalName' && ext) {
      const target = canonicalName(ext);
      const cname: Answer = { name: owner, type: 'CNAME', ttl: this.#ttl, data: target };
      return qtype === 'CNAME' ? this.#ok([cname]) : { ...this.#ok([cname]), chase: target };
    }
    if (qtype === 'SRV') return this.#srv(owner, qtype, svc, '', '');
    const ips = isHeadless(svc) ? this.#ready(svc).flatMap(({ e }) => e.addresses) : clusterIPsOf(svc);
    return this.#records(this.#addressRecords(owner, [...new Set(ips)], qtype));
  }

  #endpoint(owner: string, qtype: string, svc: Service, host: string): ZoneAnswer {
    const ns = svc.metadata.namespace ?? '';
    const all = this.#view.slicesOf(ns, svc.metadata.name ?? '').flatMap((s) => s.endpoints ?? []);
    const named = all.filter(
      (e) => hostLabel(e) === host || e.addresses.some((ip) => dashedAddress(ip) === host),
    );
    if (named.length === 0) return this.#nxdomain();
    const ready = this.#ready(svc).filter(({ e }) => named.includes(e));
    const ips = ready.flatMap(({ e }) => e.addresses);
    return this.#records(this.#addressRecords(owner, [...new Set(ips)], qtype));
  }

  /** SRV for `_port._proto` (both '' for every port of the Service). */
  #srv(owner: string, qtype: string, svc: Service, port: string, proto: string): ZoneAnswer {
    const ports = this.#ports(svc, port, proto);
    if (ports.length === 0) return port ? this.#nxdomain() : this.#nodata();
    if (qtype !== 'SRV' && qtype !== 'ANY') return this.#nodata();
    const ns = svc.metadata.namespace ?? '';
    const base = `${svc.metadata.name}.${ns}.svc.${this.domain}`;
    const answers: SrvAnswer[] = [];
    const additionals: Answer[] = [];
    if (!isHeadless(svc)) {
      for (const p of ports) answers.push(this.#srvRecord(owner, base, p.port));
      additionals.push(...this.#addressRecords(base, clusterIPsOf(svc), 'ANY'));
    } else {
      for (const { e, slice } of this.#ready(svc)) {
        const target = `${hostLabel(e) ?? dashedAddress(e.addresses[0] ?? '')}.${base}`;
        const matching = (slice.ports ?? []).filter((sp) => ports.some((p) => samePort(p, sp)));
        for (const sp of matching) answers.push(this.#srvRecord(owner, target, sp.port ?? 0));
        if (matching.length > 0) additionals.push(...this.#addressRecords(target, e.addresses, 'ANY'));
      }
    }
    const weight = answers.length > 0 ? Math.max(1, Math.floor(100 / answers.length)) : 0;
    for (const a of answers) a.data.weight = weight;
    return { ...this.#records(answers), additionals };
  }

  #srvRecord(owner: string, target: string, port: number): SrvAnswer {
    return { name: owner, type: 'SRV', ttl: this.#ttl, data: { priority: 0, weight: 0, port, target } };
  }

  /** The Service's ports matching `_port` and `_proto` labels ('' matches all; unnamed ports only then). */
  #ports(svc: Service, port: string, proto: string): { name?: string; protocol?: string; port: number }[] {
    const wantName = port.replace(/^_/, '');
    const wantProto = proto.replace(/^_/, '');
    return (svc.spec?.ports ?? []).filter(
      (p) =>
        (wantName === '' || (p.name ?? '').toLowerCase() === wantName) &&
        (wantProto === '' || (p.protocol ?? 'TCP').toLowerCase() === wantProto),
    );
  }

  #podTree(owner: string, qtype: string, l: string[]): ZoneAnswer {
    if (l.length === 0) return this.#nodata();
    const ns = l.at(-1) ?? '';
    if (l.length === 1) return this.#view.hasPodsIn(ns) ? this.#nodata() : this.#nxdomain();
    const ip = l.length === 2 ? addressFromDashed(l[0] ?? '') : undefined;
    // "pods verified": only an address some pod in that namespace has.
    if (!ip || !this.#view.podsByIP(ip).some((p) => p.metadata.namespace === ns)) return this.#nxdomain();
    return this.#records(this.#addressRecords(owner, [ip], qtype));
  }

  #reverse(name: string, owner: string, qtype: string): ZoneAnswer | undefined {
    const ip = addressFromReverse(name);
    if (!ip) return undefined;
    const v = this.#view;
    const names = new Set<string>();
    for (const s of v.servicesByIP(ip))
      names.add(`${s.metadata.name}.${s.metadata.namespace}.svc.${this.domain}`);
    for (const s of v.slicesByAddress(ip)) {
      const svc = s.metadata.labels?.[serviceNameLabel];
      for (const e of s.endpoints ?? [])
        if (svc && e.hostname && e.addresses.includes(ip))
          names.add(`${e.hostname}.${svc}.${s.metadata.namespace}.svc.${this.domain}`);
    }
    if (names.size === 0)
      for (const p of v.podsByIP(ip))
        names.add(`${dashedAddress(ip)}.${p.metadata.namespace}.pod.${this.domain}`);
    if (names.size === 0) return undefined;
    if (qtype !== 'PTR' && qtype !== 'ANY')
      return { rcode: 'NOERROR', answers: [], authorities: [], additionals: [] };
    return this.#ok([...names].map((data) => ({ name: owner, type: 'PTR', ttl: this.#ttl, data })));
  }

  /** Ready endpoints of a Service (all of them when it publishes not-ready addresses). */
  #ready(svc: Service): { e: Endpoint; slice: EndpointSlice }[] {
    const out: { e: Endpoint; slice: EndpointSlice }[] = [];
    const all = svc.spec?.publishNotReadyAddresses === true;
    for (const slice of this.#view.slicesOf(svc.metadata.namespace ?? '', svc.metadata.name ?? ''))
      for (const e of slice.endpoints ?? []) if (all || e.conditions?.ready !== false) out.push({ e, slice });
    return out;
  }

  /** A records for `A`, AAAA for `AAAA`, both for `ANY`; none for other types. */
  #addressRecords(owner: string, ips: string[], qtype: string): Answer[] {
    const out: Answer[] = [];
    for (const ip of ips) {
      if ((qtype === 'A' || qtype === 'ANY') && isIPv4(ip))
        out.push({ name: owner, type: 'A', ttl: this.#ttl, data: ip });
      if ((qtype === 'AAAA' || qtype === 'ANY') && isIPv6(ip))
        out.push({ name: owner, type: 'AAAA', ttl: this.#ttl, data: ip });
    }
    return out;
  }

  #records(answers: Answer[]): ZoneAnswer {
    return answers.length > 0 ? this.#ok(answers) : this.#nodata();
  }

  #ok(answers: Answer[]): ZoneAnswer {
    return { rcode: 'NOERROR', answers, authorities: [], additionals: [] };
  }

  #nodata(): ZoneAnswer {
    return { rcode: 'NOERROR', answers: [], authorities: [this.#soa], additionals: [] };
  }

  #nxdomain(): ZoneAnswer {
    return { rcode: 'NXDOMAIN', answers: [], authorities: [this.#soa], additionals: [] };
  }
}

const hostLabel = (e: Endpoint): string | undefined => e.hostname?.toLowerCase();

const samePort = (
  p: { name?: string; protocol?: string },
  sp: { name?: string; protocol?: string },
): boolean => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP');
