/**
 * The Service proxy of one node: keeps an nftables table of its own in step
 * with Services and EndpointSlices. Informer handlers only mark a Service
 * dirty; a few milliseconds later one loop rewrites the dirty Services'
 * chains and map elements in one `nft -f` transaction (transaction.ts). The
 * first sync, and any sync after an nft error, recreates the whole table;
 * a periodic full sync (flush mode) repairs drift. What the kernel holds is
 * only ever what one whole transaction wrote: an error leaves the previous
 * state, and the next attempt rewrites everything.
 */
import type { Client, Clock, Informer, InformerFactory, Node } from '../client/index.ts';
import { InformerFactory as Factory, realClock, resources } from '../client/index.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { skeleton } from './base.ts';
import { enableBridgeNetfilter, enableRouteLocalnet } from './host.ts';
import { loadBalancerClaims, loadBalancerIngress, syncLoadBalancerStatus } from './load-balancer.ts';
import { servicePortModels } from './model.ts';
import { deleteTable, type NftOptions, type NftRunner, nftRunner } from './nft.ts';
import { type RuleSet, serviceRules } from './rules.ts';
import { buildScript, mergeRuleSets, type SyncMode, withHairpin } from './transaction.ts';
import { type EndpointSlice, type Service, serviceNameLabel } from './types.ts';

export interface ServiceProxyOptions {
  /** Shared informers (the agent's); without them the proxy makes its own over `client`. */
  informers?: InformerFactory;
  /** Writes status.loadBalancer of LoadBalancer Services; also feeds own informers. */
  client?: Client;
  nodeName: string;
  /** The pod network (default 10.42.0.0/16): other sources are masqueraded. */
  clusterCIDR?: string;
  /** nftables table (family ip), default `drover-proxy`. */
  table?: string;
  /** The pod bridge, which gets route_localnet for node ports on 127.0.0.1 (default drover-cni0). */
  bridge?: string;
  log: Logger;
  /** Where nft runs (a test's network namespace) when `runner` is not given. */
  nft?: NftOptions;
  runner?: NftRunner;
  /** Leave host sysctls alone (tests in a namespace of their own). */
  skipHostSetup?: boolean;
  /** Collects changes this long before applying them (default 5 ms). */
  debounceMs?: number;
  /** Full (flush mode) resync period (default 5 min). */
  resyncMs?: number;
  clock?: Clock;
  /** Called after every applied transaction (benchmarks, tests). */
  onApplied?(info: AppliedInfo): void;
}

export interface AppliedInfo {
  mode: SyncMode;
  services: number;
  /** Time in nft (the transaction). */
  ms: number;
  /** Time computing rules and the script before it. */
  buildMs: number;
  scriptBytes: number;
}

const sliceIndex = 'proxy-service';

export class ServiceProxy {
  readonly #o: ServiceProxyOptions;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  readonly #informers: InformerFactory;
  readonly #ownInformers: boolean;
  readonly #services: Informer<Service>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #nodes: Informer<Node>;
  readonly #run: NftRunner;
  readonly #table: string;
  readonly #skeleton = skeleton();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #dirty = new Set<string>();
  readonly #applied = new Map<string, RuleSet>();
  /** Backend address → how many applied Services use it (its hairpin element stays while > 0). */
  #hairpinRefs = new Map<string, number>();
  #claims = new Map<string, Set<string>>();
  #pendingMode: SyncMode | undefined = 'recreate';
  #timer: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #retryMs = 0;
  #masqueradeAll = false;
  #localnetDone = false;
  #idle: (() => void)[] = [];
  #attempted: (() => void)[] = [];
  #cancelResync: (() => void) | undefined;

  constructor(o: ServiceProxyOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#table = o.table ?? 'drover-proxy';
    this.#run = o.runner ?? nftRunner(o.nft);
    if (!o.informers && !o.client) throw new Error('the service proxy needs informers or a client');
    this.#ownInformers = !o.informers;
    this.#informers = o.informers ?? new Factory(o.client as Client, { log: o.log, clock: this.#clock });
    this.#services = this.#informers.informerFor<Service>(resources.services);
    this.#slices = this.#informers.informerFor<EndpointSlice>(
      resources.endpointSlices,
      {},
      {
        [sliceIndex]: (s) => [`${s.metadata.namespace}/${s.metadata.labels?.[serviceNameLabel] ?? ''}`],
      },
    );
    this.#nodes = this.#informers.informerFor<Node>(resources.nodes);
  }

  get table(): string {
    return this.#table;
  }

  /** Waits for the caches, writes the whole table, then follows changes until stop(). */
  async start(): Promise<void> {
    const o = this.#o;
    if (!o.skipHostSetup) {
      this.#masqueradeAll = !enableBridgeNetfilter();
      if (this.#masqueradeAll) o.log.warn('br_netfilter unavailable: masquerading every service connection');
    }
    const signal = this.#abort.signal;
    const mark = (key: string) => this.#markDirty(key);
    const sliceKey = (s: EndpointSlice) =>
      `${s.metadata.namespace}/${s.metadata.labels?.[serviceNameLabel] ?? ''}`;
    const svcKey = (s: Service) => `${s.metadata.namespace}/${s.metadata.name}`;
    this.#unsubscribe.push(
      this.#services.addHandler({
        onAdd: (s) => mark(svcKey(s)),
        onUpdate: (a, b) => a !== b && mark(svcKey(b)),
        onDelete: (s) => mark(svcKey(s)),
      }),
      this.#slices.addHandler({
        onAdd: (s) => mark(sliceKey(s)),
        onUpdate: (a, b) => {
          if (a === b) return;
          mark(sliceKey(a));
          mark(sliceKey(b));
        },
        onDelete: (s) => mark(sliceKey(s)),
      }),
      this.#nodes.addHandler({
        // Heartbeats update Nodes every few seconds; only an address change matters here.
        onUpdate: (a, b) => ingressOf(a) !== ingressOf(b) && this.#nodesChanged(),
        onAdd: () => this.#nodesChanged(),
        onDelete: () => this.#nodesChanged(),
      }),
    );
    if (this.#ownInformers) this.#informers.start(signal);
    const synced = await Promise.all(
      [this.#services, this.#slices, this.#nodes].map((i) => i.waitForSync(signal)),
    );
    if (!synced.every(Boolean)) return;
    this.#pendingMode = 'recreate';
    this.#kick(0);
    // The first attempt, not its success: a node without nft still starts (the proxy keeps retrying).
    await new Promise<void>((resolve) => {
      this.#attempted.push(resolve);
    });
    this.#every(o.resyncMs ?? 300_000, () => {
      this.#pendingMode ??= 'flush';
      this.#kick(0);
    });
    o.log.info({ table: this.#table, services: this.#applied.size }, 'service proxy started');
  }

  /** Stops following changes and deletes the table. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#timer?.();
    this.#timer = undefined;
    this.#cancelResync?.();
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#loop;
    if (this.#ownInformers) await this.#informers.stop();
    await deleteTable(this.#table, this.#o.nft).catch((err: unknown) =>
      this.#o.log.warn({ err: describeError(err), table: this.#table }, 'deleting the proxy table failed'),
    );
    for (const w of [...this.#idle.splice(0), ...this.#attempted.splice(0)]) w();
  }

  /** Rewrites the whole table now (`flush` keeps affinity memory, `recreate` starts afresh). */
  async resync(mode: 'flush' | 'recreate' = 'flush'): Promise<void> {
    if (this.#pendingMode !== 'recreate') this.#pendingMode = mode;
    this.#kick(0);
    await this.idle();
  }

  /** Resolves once every change seen so far is applied (or the proxy stopped). */
  idle(): Promise<void> {
    if (!this.#busy()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #busy(): boolean {
    return (
      !this.#abort.signal.aborted &&
      (!!this.#timer || !!this.#loop || this.#dirty.size > 0 || !!this.#pendingMode)
    );
  }

  #markDirty(key: string): void {
    this.#dirty.add(key);
    this.#kick(this.#o.debounceMs ?? 5);
  }

  #nodesChanged(): void {
    // Node addresses only feed LoadBalancer status.
    for (const s of this.#services.store.list())
      if (s.spec?.type === 'LoadBalancer') this.#markDirty(`${s.metadata.namespace}/${s.metadata.name}`);
  }

  #every(ms: number, fn: () => void): void {
    const tick = () => {
      if (this.#abort.signal.aborted) return;
      fn();
      this.#cancelResync = this.#clock.after(ms, tick);
    };
    this.#cancelResync = this.#clock.after(ms, tick);
  }

  /** Starts the sync loop after `delay` unless it is already pending or running. */
  #kick(delay: number): void {
    if (this.#timer || this.#loop || this.#abort.signal.aborted) return;
    this.#timer = this.#clock.after(delay, () => {
      this.#timer = undefined;
      this.#loop = this.#syncLoop().finally(() => {
        this.#loop = undefined;
        if (this.#dirty.size > 0 || this.#pendingMode) this.#kick(this.#retryMs || (this.#o.debounceMs ?? 5));
        else for (const w of this.#idle.splice(0)) w();
      });
    });
  }

  async #syncLoop(): Promise<void> {
    while (!this.#abort.signal.aborted && (this.#dirty.size > 0 || this.#pendingMode)) {
      const ok = await this.#syncOnce();
      for (const w of this.#attempted.splice(0)) w();
      if (!ok) return;
    }
  }

  /** One transaction; false after an error (the next attempt, after a back-off, recreates the table). */
  async #syncOnce(): Promise<boolean> {
    const o = this.#o;
    const begun = performance.now();
    const mode: SyncMode = this.#pendingMode ?? 'incremental';
    this.#pendingMode = undefined;
    const claims = loadBalancerClaims(this.#services.store.list());
    const keys = new Set(
      mode === 'incremental' ? this.#dirty : [...this.#services.store.keys(), ...this.#applied.keys()],
    );
    this.#dirty.clear();
    for (const [k, ports] of claims) if (!sameSet(ports, this.#claims.get(k))) keys.add(k);
    for (const [k, ports] of this.#claims) if (!sameSet(ports, claims.get(k))) keys.add(k);

    const changed = new Map<string, RuleSet | undefined>();
    for (const k of keys) changed.set(k, this.#rulesFor(k, claims));
    const full = mode !== 'incremental';
    const nextAll = full
      ? new Map([...changed].flatMap(([k, rs]) => (rs ? [[k, rs] as const] : [])))
      : undefined;
    const hairpin = this.#hairpinChange(changed, nextAll);
    const oldPart = full ? [...this.#applied.values()] : [...keys].flatMap((k) => this.#applied.get(k) ?? []);
    const newPart = nextAll ? [...nextAll.values()] : [...changed.values()].flatMap((rs) => rs ?? []);
    const script = buildScript({
      table: this.#table,
      skeleton: this.#skeleton,
      old: withHairpin(mergeRuleSets(oldPart), hairpin.old),
      next: withHairpin(mergeRuleSets(newPart), hairpin.next),
      mode,
    });
    const started = performance.now();
    try {
      if (script) await this.#run(script);
    } catch (err) {
      this.#retryMs = Math.min(30_000, Math.max(500, this.#retryMs * 2));
      this.#pendingMode = 'recreate';
      o.log.error({ err: describeError(err), mode, retryMs: this.#retryMs }, 'applying service rules failed');
      return false;
    }
    this.#retryMs = 0;
    if (nextAll) this.#applied.clear();
    for (const [k, rs] of changed) {
      if (rs) this.#applied.set(k, rs);
      else this.#applied.delete(k);
    }
    hairpin.apply();
    this.#claims = claims;
    const ms = performance.now() - started;
    o.log.debug({ mode, services: keys.size, ms: Math.round(ms) }, 'service rules applied');
    o.onApplied?.({ mode, services: keys.size, ms, buildMs: started - begun, scriptBytes: script.length });
    if (!this.#localnetDone && !o.skipHostSetup)
      this.#localnetDone = enableRouteLocalnet(o.bridge ?? 'drover-cni0');
    if (o.client) this.#writeStatuses(keys);
    return true;
  }

  /**
   * The hairpin set's elements before and after this sync, restricted to the addresses whose use
   * changes when incremental (counting every backend of 1,000 Services each time costs more than
   * the nft transaction of one endpoint change).
   */
  #hairpinChange(
    changed: Map<string, RuleSet | undefined>,
    nextAll: Map<string, RuleSet> | undefined,
  ): { old: string[]; next: string[]; apply(): void } {
    if (nextAll) {
      const refs = new Map<string, number>();
      for (const rs of nextAll.values())
        for (const ip of rs.backendIPs) refs.set(ip, (refs.get(ip) ?? 0) + 1);
      const apply = () => {
        this.#hairpinRefs = refs;
      };
      return { old: [...this.#hairpinRefs.keys()], next: [...refs.keys()], apply };
    }
    const delta = new Map<string, number>();
    for (const [k, rs] of changed) {
      for (const ip of this.#applied.get(k)?.backendIPs ?? []) delta.set(ip, (delta.get(ip) ?? 0) - 1);
      for (const ip of rs?.backendIPs ?? []) delta.set(ip, (delta.get(ip) ?? 0) + 1);
    }
    const old: string[] = [];
    const next: string[] = [];
    for (const [ip, d] of delta) {
      const before = this.#hairpinRefs.get(ip) ?? 0;
      if (before > 0) old.push(ip);
      if (before + d > 0) next.push(ip);
    }
    const apply = () => {
      for (const [ip, d] of delta) {
        const after = (this.#hairpinRefs.get(ip) ?? 0) + d;
        if (after > 0) this.#hairpinRefs.set(ip, after);
        else this.#hairpinRefs.delete(ip);
      }
    };
    return { old, next, apply };
  }

  #rulesFor(key: string, claims: Map<string, Set<string>>): RuleSet | undefined {
    const svc = this.#services.store.get(key);
    if (!svc) return undefined;
    const slices = this.#slices.store.byIndex(sliceIndex, key);
    const models = servicePortModels(svc, slices, this.#o.nodeName);
    if (models.length === 0) return undefined;
    return serviceRules(models, {
      clusterCIDR: this.#o.clusterCIDR ?? '10.42.0.0/16',
      masqueradeAll: this.#masqueradeAll,
      loadBalancerPorts: claims.get(key) ?? new Set(),
    });
  }

  #writeStatuses(keys: Set<string>): void {
    const client = this.#o.client;
    if (!client) return;
    const nodes = this.#nodes.store.list();
    for (const k of keys) {
      const svc = this.#services.store.get(k);
      if (svc?.spec?.type !== 'LoadBalancer') continue;
      syncLoadBalancerStatus(client, svc, nodes).catch((err: unknown) =>
        this.#o.log.debug({ err: describeError(err), service: k }, 'writing load balancer status failed'),
      );
    }
  }
}

const ingressOf = (n: Node) => JSON.stringify(loadBalancerIngress([n]));

function sameSet(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  for (const v of a ?? []) if (!b?.has(v)) return false;
  return true;
}
