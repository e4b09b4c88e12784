/**
 * NetworkManager: the engine's networks (registry + kernel state) and each
 * container's network sandbox (netns, endpoints, published ports, hosts file).
 *
 * Contract for callers (the container manager):
 * - call init() once at daemon start, before anything else: it recreates
 *   bridges and the nftables table after a reboot or restart, and drops
 *   runtime records whose kernel objects are gone (and kernel objects of ours
 *   that no record claims), so nothing leaks across crashes;
 * - per container: createSandbox (optionally with its first networks, the
 *   fastest path), publishPorts, then releaseSandbox when it stops (it removes
 *   ports, endpoints, IP leases and the netns, and is idempotent);
 * - every method is serialised on one internal lock; state is persisted
 *   before the method resolves.
 *
 * One class of ~700 lines on purpose: it is the single owner of the lock and
 * the records, and splitting it would spread that ownership; everything pure
 * lives beside it (networks.ts, endpoints.ts, ipam.ts, ports.ts, hosts.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type {
  EndpointSettings,
  Filters,
  NetworkCreateRequest,
  NetworkInspect,
  PruneReport,
} from '../types.ts';
import {
  attachVeth,
  deleteBridge,
  deleteLink,
  enableForwarding,
  ensureBridge,
  hostRouteSubnets,
  linkExists,
  type VethPlan,
} from './bridge.ts';
import { endpointSettings, hostsFileFor, sweepOrphans } from './endpoints.ts';
import { Firewall, type NatNetwork } from './firewall.ts';
import { writeHostsInPlace } from './hosts.ts';
import { allocateIp, isValidMac, macFor } from './ipam.ts';
import { createNetns, deleteNetns, netnsExists, netnsPathOf } from './netns.ts';
import { findNetwork, matchesFilters, predefinedNetworks, toInspect, validateCreate } from './networks.ts';
import { PortPublisher, type PublishRequest } from './publisher.ts';
import type { EndpointRecord, NetworkRecord, RuntimeState, SandboxRecord } from './state.ts';
import { StateFiles } from './state.ts';
import {
  chooseSubnet,
  formatIp,
  formatSubnet,
  hostAt,
  overlaps,
  parseSubnet,
  type Subnet,
} from './subnet.ts';
import { ipBatch } from './tool.ts';

export interface NetworkManagerOptions {
  /** Persistent directory owned by the network manager (networks.json). */
  dataDir: string;
  /** Runtime directory (tmpfs, e.g. /run/drover/network): sandboxes, leases, ports. */
  runDir: string;
  log: Logger;
  /** Linux bridge of the predefined `bridge` network. Default drover0. */
  defaultBridge?: string;
  /** Prefix of user-defined networks' bridges. Default `drv-`. */
  bridgePrefix?: string;
  /** Prefix of sandbox namespaces under /run/netns. Default `drover-`. */
  netnsPrefix?: string;
  /** nftables table (family ip). Default `drover`. */
  table?: string;
  /** Warm sandboxes kept ready on the default bridge (0 disables). Default 2. */
  warmPool?: number;
  /** Delay before refilling the pool, so refills run after a start, not during it. Default 20 ms. */
  poolRefillDelayMs?: number;
}

/** private: a new netns with loopback ("none" and bridge networks); host; another container's netns. */
export type SandboxMode = { type: 'private' } | { type: 'host' } | { type: 'container'; netnsPath: string };

export interface ConnectOptions {
  /** Container name (no leading slash): shown by network inspect, resolvable by peers. */
  name: string;
  aliases?: string[];
  ipv4Address?: string;
  macAddress?: string;
  /** Interface inside the container; default the first free ethN. */
  ifname?: string;
}

export interface SandboxOptions {
  mode: SandboxMode;
  hostname?: string;
  /** When set, the manager writes this hosts file and keeps it in sync with peers. */
  hostsPath?: string;
  /** Docker's ExtraHosts entries, `name:ip`. */
  extraHosts?: string[];
  /** Networks to connect at once: saves an exec per container (loopback comes up in the same batch). */
  networks?: { network: string; opts: ConnectOptions }[];
  /**
   * Private mode without networks (--network none): the OCI runtime creates
   * the namespace with the container (crun brings loopback up), so no netns
   * is made or deleted here and the sandbox's netnsPath is null.
   */
  runtimeNetns?: boolean;
}

export interface Sandbox {
  containerId: string;
  /** For crun's network namespace path; null in host mode (no netns). */
  netnsPath: string | null;
  /** Network name to endpoint, for NetworkSettings.Networks. */
  endpoints: Record<string, EndpointSettings>;
}

export class NetworkManager {
  private readonly log: Logger;
  private readonly files: StateFiles;
  private readonly opts: Required<Omit<NetworkManagerOptions, 'log'>>;
  readonly firewall: Firewall;
  private readonly publisher: PortPublisher;
  private networks: NetworkRecord[] = [];
  private rt: RuntimeState = { sandboxes: [], endpoints: [], ports: [] };
  private queue: Promise<unknown> = Promise.resolve();
  /** Warm sandboxes on the default bridge, ready to hand over (placeholder container ids). */
  private pool: string[] = [];
  private readonly poolSize: number;
  private refillTimer: NodeJS.Timeout | undefined;
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;
  /** Warm sandboxes being prepared (outside the lock). */
  private warming = 0;
  private deferred: (() => Promise<unknown>)[] = [];

  constructor(o: NetworkManagerOptions) {
    this.log = o.log;
    this.opts = {
      dataDir: o.dataDir,
      runDir: o.runDir,
      defaultBridge: o.defaultBridge ?? 'drover0',
      bridgePrefix: o.bridgePrefix ?? 'drv-',
      netnsPrefix: o.netnsPrefix ?? 'drover-',
      table: o.table ?? 'drover',
      warmPool: o.warmPool ?? 2,
      poolRefillDelayMs: o.poolRefillDelayMs ?? 20,
    };
    this.poolSize = this.opts.warmPool;
    this.files = new StateFiles(o.dataDir, o.runDir);
    this.firewall = new Firewall(this.opts.table);
    this.publisher = new PortPublisher(this.firewall, () => this.rt.ports);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run.finally(() => this.startDeferred());
  }

  /** Work to start once the current locked call has answered its caller. */
  private defer(work: () => Promise<unknown>): void {
    this.deferred.push(work);
  }

  private startDeferred(): void {
    if (this.deferred.length === 0) return;
    const batch = this.deferred.splice(0);
    // setImmediate: after the caller's continuation (and its reply) has run.
    this.track(nextTick().then(() => Promise.all(batch.map((w) => w()))));
  }

  private async save(networksToo = false): Promise<void> {
    this.files.saveRuntime(this.rt);
    if (networksToo) this.files.saveNetworks(this.networks);
  }

  /** Recreates bridges and rules idempotently and re-adopts state; call once at start. */
  async init(): Promise<void> {
    await this.locked(async () => {
      await Promise.all([
        mkdir(this.opts.dataDir, { recursive: true }),
        mkdir(this.opts.runDir, { recursive: true }),
      ]);
      const loaded = await this.files.load();
      this.networks = loaded.networks;
      this.rt = loaded.runtime;
      if (!this.networks.some((n) => n.builtin)) {
        const subnet = await this.freeSubnet();
        this.networks.unshift(...predefinedNetworks(this.opts.defaultBridge, subnet));
      }
      await enableForwarding();
      for (const n of this.networks) if (n.bridge && n.gateway && n.subnet) await this.ensureNetworkBridge(n);
      await this.reconcileRuntime();
      await this.firewall.rebuild(this.natNetworks(), this.rt.ports);
      await this.save(true);
      for (const s of this.rt.sandboxes) await this.refreshHosts(s);
      this.log.info(
        { networks: this.networks.length, sandboxes: this.rt.sandboxes.length },
        'networks ready',
      );
    });
    await this.refill();
  }

  private async ensureNetworkBridge(n: NetworkRecord): Promise<void> {
    const prefix = n.subnet ? parseSubnet(n.subnet).prefix : 16;
    await ensureBridge(n.bridge ?? '', `${n.gateway}/${prefix}`);
  }

  private natNetworks(): NatNetwork[] {
    return this.networks
      .filter((n) => n.bridge && n.subnet)
      .map((n) => ({ bridge: n.bridge ?? '', subnet: n.subnet ?? '', internal: n.internal }));
  }

  /** Drops records whose kernel objects vanished, and our kernel objects nothing records. */
  private async reconcileRuntime(): Promise<void> {
    // Warm sandboxes are not re-adopted: their namespaces are swept below and the pool refilled.
    const gone = this.rt.sandboxes.filter(
      (s) => s.containerId.startsWith(poolPrefix) || (s.netns !== undefined && !netnsExists(s.netns)),
    );
    for (const s of gone) this.forget(s.containerId);
    this.rt.endpoints = this.rt.endpoints.filter(
      (e) => this.sandboxOf(e.containerId) !== undefined && linkExists(e.hostIf),
    );
    await sweepOrphans({
      log: this.log,
      netnsPrefix: this.opts.netnsPrefix,
      bridgePrefix: this.opts.bridgePrefix,
      claimedNetns: new Set(this.rt.sandboxes.map((s) => s.netns ?? '')),
      claimedBridges: new Set(this.networks.map((n) => n.bridge ?? '')),
    });
  }

  private forget(containerId: string): void {
    this.rt.sandboxes = this.rt.sandboxes.filter((s) => s.containerId !== containerId);
    this.rt.endpoints = this.rt.endpoints.filter((e) => e.containerId !== containerId);
    this.rt.ports = this.rt.ports.filter((p) => p.containerId !== containerId);
  }

  private async freeSubnet(): Promise<Subnet> {
    const taken = [
      ...(await hostRouteSubnets()),
      ...this.networks.filter((n) => n.subnet).map((n) => parseSubnet(n.subnet ?? '')),
    ];
    const s = chooseSubnet(taken);
    if (!s) throw new UnavailableError('creating network: no free subnet left in the address pools');
    return s;
  }

  // ---- networks ----------------------------------------------------------

  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.locked(async () => {
      const { record, subnet } = validateCreate(req, this.networks, this.opts.bridgePrefix);
      if (subnet) {
        const taken = [
          ...(await hostRouteSubnets()),
          ...this.networks.filter((n) => n.subnet).map((n) => parseSubnet(n.subnet ?? '')),
        ];
        if (taken.some((t) => overlaps(t, subnet))) {
          throw new ConflictError(
            `creating network ${req.Name}: pool overlaps with other one on this address space`,
          );
        }
      } else {
        const s = await this.freeSubnet();
        record.subnet = formatSubnet(s);
        record.gateway = formatIp(hostAt(s, 1));
      }
      await this.ensureNetworkBridge(record);
      try {
        await this.firewall.addNetwork({
          bridge: record.bridge ?? '',
          subnet: record.subnet ?? '',
          internal: record.internal,
        });
      } catch (err) {
        await deleteBridge(record.bridge ?? '');
        throw err;
      }
      this.networks.push(record);
      await this.save(true);
      this.log.debug(
        { network: record.name, subnet: record.subnet, bridge: record.bridge },
        'network created',
      );
      return { Id: record.id, Warning: '' };
    });
  }

  async list(filters?: Filters): Promise<NetworkInspect[]> {
    return this.networks
      .filter((n) => matchesFilters(n, filters, this.inUse(n)))
      .map((n) => toInspect(n, this.visibleEndpoints()));
  }

  async inspect(ref: string): Promise<NetworkInspect> {
    return toInspect(findNetwork(this.networks, ref), this.visibleEndpoints());
  }

  private inUse(n: NetworkRecord): boolean {
    return this.visibleEndpoints().some((e) => e.networkId === n.id);
  }

  /** Endpoints of real containers (warm sandboxes are an implementation detail). */
  private visibleEndpoints(): EndpointRecord[] {
    return this.rt.endpoints.filter((e) => !e.containerId.startsWith(poolPrefix));
  }

  remove(ref: string): Promise<void> {
    return this.locked(async () => this.removeLocked(findNetwork(this.networks, ref)));
  }

  private async removeLocked(n: NetworkRecord): Promise<void> {
    if (n.builtin) throw new ForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    if (this.inUse(n)) {
      throw new ForbiddenError(
        `error while removing network: network ${n.name} id ${n.id} has active endpoints`,
      );
    }
    this.networks = this.networks.filter((x) => x.id !== n.id);
    try {
      await this.firewall.removeNetwork({
        bridge: n.bridge ?? '',
        subnet: n.subnet ?? '',
        internal: n.internal,
      });
    } catch {
      await this.firewall.rebuild(this.natNetworks(), this.rt.ports);
    }
    await deleteBridge(n.bridge ?? '');
    await this.save(true);
    this.log.debug({ network: n.name }, 'network removed');
  }

  prune(filters?: Filters): Promise<PruneReport> {
    return this.locked(async () => {
      const deleted: string[] = [];
      for (const n of [...this.networks]) {
        if (n.builtin || this.inUse(n) || !matchesFilters(n, filters, false)) continue;
        await this.removeLocked(n);
        deleted.push(n.name);
      }
      return { deleted, spaceReclaimed: 0 };
    });
  }

  // ---- sandboxes and endpoints ------------------------------------------

  private sandboxOf(containerId: string): SandboxRecord | undefined {
    return this.rt.sandboxes.find((s) => s.containerId === containerId);
  }

  /**
   * Creates the container's network sandbox and connects `opts.networks` in
   * the same step. For the default bridge alone, a warm sandbox is handed over
   * when one is ready (no process spawned on this path); otherwise the netns is
   * created inside the first network's host batch (two `ip` processes).
   */
  createSandbox(containerId: string, opts: SandboxOptions): Promise<Sandbox> {
    return this.locked(async () => {
      if (this.sandboxOf(containerId) || containerId.startsWith(poolPrefix)) {
        throw new ConflictError(`network sandbox for ${containerId} already exists`);
      }
      const networks = opts.networks ?? [];
      if (opts.mode.type !== 'private' && networks.length > 0) {
        throw new ConflictError(
          'container sharing network namespace with another container or host cannot be connected to any other network',
        );
      }
      const warm = this.isPoolEligible(opts) ? this.pool.shift() : undefined;
      if (warm) return this.adoptWarm(warm, containerId, opts);
      const rec: SandboxRecord = {
        containerId,
        netnsPath: opts.mode.type === 'container' ? opts.mode.netnsPath : null,
        mode: opts.mode.type,
        hostname: opts.hostname ?? containerId.slice(0, 12),
        hostsPath: opts.hostsPath,
        extraHosts: opts.extraHosts ?? [],
      };
      if (opts.mode.type === 'private' && !(opts.runtimeNetns && networks.length === 0)) {
        rec.netns = `${this.opts.netnsPrefix}${containerId.slice(0, 12)}`;
        rec.netnsPath = netnsPathOf(rec.netns);
        if (networks.length === 0) await createNetns(rec.netns, { loopback: true });
      }
      this.rt.sandboxes.push(rec);
      try {
        for (const { network, opts: c } of networks) await this.connectLocked(containerId, network, c);
        // Without networks (--network none) the network records did not change.
        await this.save(networks.length > 0);
        await this.refreshHosts(rec);
      } catch (err) {
        await this.releaseLocked(containerId);
        throw err;
      }
      return { containerId, netnsPath: rec.netnsPath, endpoints: this.endpointsOf(containerId) };
    });
  }

  private isPoolEligible(opts: SandboxOptions): boolean {
    const only = opts.networks?.length === 1 ? opts.networks[0] : undefined;
    if (opts.mode.type !== 'private' || !only || this.pool.length === 0) return false;
    const o = only.opts;
    if (o.ipv4Address || o.macAddress || (o.ifname && o.ifname !== 'eth0')) return false;
    const net = this.networks.find((n) => n.id === only.network || n.name === only.network);
    return net?.builtin === true && net.driver === 'bridge';
  }

  /** Hands a warm sandbox to the container: its records are renamed, the kernel is not touched. */
  private async adoptWarm(warm: string, containerId: string, opts: SandboxOptions): Promise<Sandbox> {
    const sb = this.sandboxOf(warm);
    const ep = this.rt.endpoints.find((e) => e.containerId === warm);
    const c = opts.networks?.[0]?.opts;
    if (!sb || !ep || !c) throw new UnavailableError('warm network sandbox lost its records');
    Object.assign(sb, {
      containerId,
      hostname: opts.hostname ?? containerId.slice(0, 12),
      hostsPath: opts.hostsPath,
      extraHosts: opts.extraHosts ?? [],
    });
    Object.assign(ep, { containerId, name: c.name, aliases: c.aliases ?? [] });
    await this.save();
    await this.refreshHosts(sb);
    this.scheduleRefill();
    return { containerId, netnsPath: sb.netnsPath, endpoints: this.endpointsOf(containerId) };
  }

  /** Refills the warm pool a little later, off the caller's path, under the lock. */
  private scheduleRefill(): void {
    if (this.refillTimer || this.closed || this.pool.length >= this.poolSize) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.track(this.refill());
    }, this.opts.poolRefillDelayMs);
    this.refillTimer.unref();
  }

  /**
   * Tops the warm pool up. Only the bookkeeping holds the lock; the kernel
   * work (two `ip` processes per sandbox) runs outside it, so a container
   * start or stop never waits behind a refill.
   */
  private async refill(): Promise<void> {
    while (!this.closed && this.pool.length + this.warming < this.poolSize) {
      const reserved = await this.locked(async () => {
        const bridge = this.networks.find((n) => n.builtin && n.driver === 'bridge');
        if (!bridge) return undefined;
        const id = `${poolPrefix}${randomBytes(16).toString('hex')}`;
        const netns = `${this.opts.netnsPrefix}p${id.slice(poolPrefix.length, poolPrefix.length + 10)}`;
        this.rt.sandboxes.push({
          containerId: id,
          netns,
          netnsPath: netnsPathOf(netns),
          mode: 'private',
          hostname: '',
          extraHosts: [],
        });
        return { id, ...this.reserveEndpoint(id, bridge.id, { name: '' }) };
      });
      if (!reserved) return;
      this.warming++;
      try {
        await this.applyEndpoint(reserved.net, reserved.plan);
        this.pool.push(reserved.id);
      } catch (err) {
        this.log.warn({ err }, 'cannot prepare a warm network sandbox');
        await this.locked(() => this.releaseLocked(reserved.id));
        return;
      } finally {
        this.warming--;
      }
    }
  }

  /** Runs `p` in the background; drain() waits for all of them. Errors are logged. */
  private track(p: Promise<unknown>): void {
    const t = p
      .catch((err) => this.log.warn({ err }, 'background network cleanup failed'))
      .finally(() => this.background.delete(t));
    this.background.add(t);
  }

  /** Waits for background work (netns deletions, pool refills) to finish. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /** Stops refilling, releases the warm sandboxes and waits for background work. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    await this.drain();
    await this.locked(async () => {
      for (const id of this.pool.splice(0)) await this.releaseLocked(id);
    });
    await this.drain();
  }

  connect(containerId: string, network: string, opts: ConnectOptions): Promise<EndpointSettings> {
    return this.locked(async () => {
      const ep = await this.connectLocked(containerId, network, opts);
      await this.save(true);
      return ep;
    });
  }

  private async connectLocked(
    containerId: string,
    ref: string,
    opts: ConnectOptions,
  ): Promise<EndpointSettings> {
    const { rec, net, plan } = this.reserveEndpoint(containerId, ref, opts);
    try {
      await this.applyEndpoint(net, plan);
    } catch (err) {
      this.rt.endpoints = this.rt.endpoints.filter((e) => e !== rec);
      throw err;
    }
    await this.refreshNetworkHosts(net.id, this.sandboxOf(containerId));
    this.log.debug({ container: containerId, network: net.name, ip: rec.ip }, 'endpoint connected');
    return endpointSettings(rec, net);
  }

  /** Validates, allocates the address and records the endpoint (no kernel work). */
  private reserveEndpoint(
    containerId: string,
    ref: string,
    opts: ConnectOptions,
  ): { rec: EndpointRecord; net: NetworkRecord; plan: VethPlan } {
    const sb = this.sandboxOf(containerId);
    if (!sb) throw new NotFoundError(`no network sandbox for container ${containerId}`);
    const net = findNetwork(this.networks, ref);
    if (!sb.netns) {
      throw new ForbiddenError(
        'container sharing network namespace with another container or host cannot be connected to any other network',
      );
    }
    if (!net.bridge) throw new ForbiddenError(`container cannot be connected to the ${net.name} network`);
    const mine = this.rt.endpoints.filter((e) => e.containerId === containerId);
    if (mine.some((e) => e.networkId === net.id)) {
      throw new ForbiddenError(`endpoint with name ${opts.name} already exists in network ${net.name}`);
    }
    if (opts.macAddress && !isValidMac(opts.macAddress)) {
      throw new ConflictError(`invalid MAC address ${opts.macAddress}`);
    }
    const used = new Set(this.rt.endpoints.filter((e) => e.networkId === net.id).map((e) => e.ip));
    const ip = allocateIp(net, used, opts.ipv4Address || undefined);
    const ifnames = new Set(mine.map((e) => e.ifname));
    let ifname = opts.ifname;
    for (let i = 0; !ifname; i++) if (!ifnames.has(`eth${i}`)) ifname = `eth${i}`;
    const prefixLen = parseSubnet(net.subnet ?? '').prefix;
    const rec: EndpointRecord = {
      containerId,
      networkId: net.id,
      endpointId: randomBytes(32).toString('hex'),
      name: opts.name,
      aliases: opts.aliases ?? [],
      ip,
      prefixLen,
      gateway: net.gateway ?? '',
      mac: opts.macAddress || macFor(ip),
      ifname,
      hostIf: `veth${randomBytes(5).toString('hex')}`,
      hasDefaultRoute: !net.internal && !mine.some((e) => e.hasDefaultRoute),
      staticIp: Boolean(opts.ipv4Address),
    };
    this.rt.endpoints.push(rec);
    const plan: VethPlan = {
      hostIf: rec.hostIf,
      ifname,
      mac: rec.mac,
      bridge: net.bridge,
      netns: sb.netns,
      ipCidr: `${ip}/${prefixLen}`,
      defaultGateway: rec.hasDefaultRoute ? rec.gateway : undefined,
    };
    return { rec, net, plan };
  }

  /** The kernel side of an endpoint: creates the netns in the same batch when it does not exist yet. */
  private async applyEndpoint(net: NetworkRecord, plan: VethPlan): Promise<void> {
    if (!linkExists(plan.bridge)) await this.ensureNetworkBridge(net);
    await attachVeth(plan, { createNetns: !netnsExists(plan.netns) });
  }

  disconnect(containerId: string, ref: string): Promise<void> {
    return this.locked(async () => {
      const net = findNetwork(this.networks, ref);
      const ep = this.rt.endpoints.find((e) => e.containerId === containerId && e.networkId === net.id);
      if (!ep) throw new NotFoundError(`container ${containerId} is not connected to network ${net.name}`);
      await this.publisher.unpublish(containerId, (p) => p.containerIp === ep.ip);
      await deleteLink(ep.hostIf);
      this.rt.endpoints = this.rt.endpoints.filter((e) => e !== ep);
      const sb = this.sandboxOf(containerId);
      const next = this.rt.endpoints.find(
        (e) => e.containerId === containerId && !this.networkById(e.networkId)?.internal,
      );
      if (ep.hasDefaultRoute && next && sb?.netns) {
        await ipBatch(
          'moving the default route',
          [`route replace default via ${next.gateway} dev ${next.ifname}`],
          sb.netns,
        );
        next.hasDefaultRoute = true;
      }
      await this.save();
      await this.refreshNetworkHosts(net.id, sb);
    });
  }

  /** Publishes ports (Docker's PortBindings, -P) with kernel DNAT; returns NetworkSettings.Ports. */
  publishPorts(containerId: string, req: PublishRequest): Promise<Record<string, PortBindingList>> {
    return this.locked(async () => {
      const containerIp = req.containerIp ?? this.rt.endpoints.find((e) => e.containerId === containerId)?.ip;
      if (!containerIp) return {};
      const result = await this.publisher.publish(containerId, containerIp, req);
      await this.save();
      return result;
    });
  }

  unpublish(containerId: string): Promise<void> {
    return this.locked(async () => {
      await this.publisher.unpublish(containerId, () => true);
      await this.save();
    });
  }

  /** Removes everything the container had: ports, endpoints, IP leases, netns. Idempotent. */
  releaseSandbox(containerId: string): Promise<void> {
    return this.locked(() => this.releaseLocked(containerId));
  }

  private async releaseLocked(containerId: string): Promise<void> {
    const sb = this.sandboxOf(containerId);
    const eps = this.rt.endpoints.filter((e) => e.containerId === containerId);
    // Nothing held (a removal releases again after the exit did): no state file to rewrite.
    if (!sb && eps.length === 0 && !this.rt.ports.some((p) => p.containerId === containerId)) return;
    // Kernel cleanup runs in the background, after the caller has its answer
    // (even spawning costs ~2 ms of this thread): the records go now, so a
    // crash before it ends leaves an unclaimed netns that init() sweeps, and a
    // leftover port rule that init()'s rebuild drops; the firewall applies
    // changes in order, so the same port can be published again at once; the
    // IP is not handed out again at once (see ipam.ts). Deleting the
    // namespace takes its veths along.
    const ports = this.publisher.unpublish(containerId, () => true);
    const netns = sb?.netns;
    this.track(ports);
    if (netns) this.defer(() => deleteNetns(netns));
    else for (const e of eps) await deleteLink(e.hostIf);
    this.forget(containerId);
    await this.save();
    for (const netId of new Set(eps.map((e) => e.networkId)))
      await this.refreshNetworkHosts(netId, undefined);
  }

  // ---- queries for inspect ----------------------------------------------

  private networkById(id: string): NetworkRecord | undefined {
    return this.networks.find((n) => n.id === id);
  }

  /** Network name to endpoint settings, for NetworkSettings.Networks. */
  endpointsOf(containerId: string): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const e of this.rt.endpoints) {
      const n = e.containerId === containerId ? this.networkById(e.networkId) : undefined;
      if (n) out[n.name] = endpointSettings(e, n);
    }
    return out;
  }

  /** NetworkSettings.Ports for the container's current publications. */
  portsOf(containerId: string): Record<string, PortBindingList> {
    return this.publisher.bindingsOf(containerId);
  }

  /** The sandbox's netns path (null in host mode), or undefined when it has none. */
  netnsPathOf(containerId: string): string | null | undefined {
    return this.sandboxOf(containerId)?.netnsPath;
  }

  /** The hosts file content for the container: itself, extra hosts, and its peers on user-defined networks. */
  hostsFileFor(containerId: string): string {
    return hostsFileFor(containerId, this.rt, this.networks);
  }

  private async refreshHosts(sb: SandboxRecord | undefined): Promise<void> {
    if (!sb?.hostsPath) return;
    try {
      writeHostsInPlace(sb.hostsPath, this.hostsFileFor(sb.containerId));
    } catch (err) {
      this.log.warn({ container: sb.containerId, err }, 'cannot update hosts file');
    }
  }

  /** Rewrites the hosts files of the network's members (and `also`, which may have just left). */
  private async refreshNetworkHosts(networkId: string, also: SandboxRecord | undefined): Promise<void> {
    const ids = new Set(this.rt.endpoints.filter((e) => e.networkId === networkId).map((e) => e.containerId));
    if (this.networkById(networkId)?.builtin) ids.clear();
    if (also) ids.add(also.containerId);
    await Promise.all([...ids].map((id) => this.refreshHosts(this.sandboxOf(id))));
  }
}

/** Resolves after pending I/O callbacks, so a reply already written goes out first. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Placeholder container ids of warm sandboxes; never shown to callers. */
const poolPrefix = 'pool-';

export type PortBindingList = { HostIp: string; HostPort: string }[];
