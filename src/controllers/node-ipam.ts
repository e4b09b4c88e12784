import { type Informer, type Node, resources, type Workqueue } from '../client/index.ts';
import { ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue } from './controller.ts';
import { EventRecorder } from './events.ts';

export interface NodeIpamOptions {
  /** Pod addresses of the whole cluster (default 10.42.0.0/16). */
  clusterCIDR?: string;
  /** Prefix length of each node's range (default 24). */
  nodeMaskSize?: number;
}

function parseIPv4(s: string): number {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new InvalidError(`parsing cluster CIDR: "${s}" is not an IPv4 address`);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

const formatIPv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * The node ranges of a cluster CIDR (upstream's CidrSet): the i-th /mask of
 * `cluster`. Only IPv4; a cluster CIDR wider than the node mask by more than
 * 16 bits is refused (65536 ranges are plenty).
 */
export class CidrSet {
  readonly #base: number;
  readonly #mask: number;
  readonly size: number;
  readonly cluster: string;

  constructor(cluster: string, mask: number) {
    const [ip = '', bitsText = ''] = cluster.split('/');
    const bits = Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32 || mask < bits || mask > 32 || mask - bits > 16)
      throw new InvalidError(`cluster CIDR ${cluster} cannot be split into /${mask} ranges`);
    const hostBits = 32 - bits;
    this.#base = hostBits === 32 ? 0 : (parseIPv4(ip) >>> hostBits) << hostBits;
    this.#base >>>= 0;
    this.#mask = mask;
    this.size = 2 ** (mask - bits);
    this.cluster = cluster;
  }

  cidr(i: number): string {
    return `${formatIPv4((this.#base + i * 2 ** (32 - this.#mask)) >>> 0)}/${this.#mask}`;
  }

  /** The index of `cidr` when it is one of this set's ranges. */
  indexOf(cidr: string): number | undefined {
    const [ip = '', bits] = cidr.split('/');
    if (Number(bits) !== this.#mask) return undefined;
    let addr: number;
    try {
      addr = parseIPv4(ip);
    } catch {
      return undefined;
    }
    const off = addr - this.#base;
    const step = 2 ** (32 - this.#mask);
    if (off < 0 || off % step !== 0 || off / step >= this.size) return undefined;
    return off / step;
  }
}

/**
 * Upstream's node IPAM controller with the range allocator: every Node
 * without spec.podCIDR gets the first free range of the cluster CIDR
 * (spec.podCIDR and spec.podCIDRs). Ranges in use are read from the nodes in
 * the cache plus the ones this controller handed out that the cache has not
 * shown yet; one worker, so two nodes never get the same range.
 */
export class NodeIpamController implements Controller {
  readonly name = 'nodeipam';
  readonly queue: Workqueue<string>;
  readonly workers = 1;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #set: CidrSet;
  readonly #nodes: Informer<Node>;
  readonly #pending = new Map<string, string>();
  readonly #events: EventRecorder;

  constructor(ctx: ControllerContext, opts: NodeIpamOptions = {}) {
    this.#ctx = ctx;
    this.#set = new CidrSet(opts.clusterCIDR ?? '10.42.0.0/16', opts.nodeMaskSize ?? 24);
    this.queue = newQueue(ctx);
    this.#events = EventRecorder.forController(ctx, 'cidrAllocator');
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.informers = [this.#nodes];
    this.#nodes.addHandler({
      onAdd: (n) => this.queue.add(n.metadata.name ?? ''),
      onUpdate: (_, n) => this.queue.add(n.metadata.name ?? ''),
      onDelete: (n) => this.#pending.delete(n.metadata.name ?? ''),
    });
  }

  #taken(except: string): Set<number> {
    const used = new Set<number>();
    for (const n of this.#nodes.store.list()) {
      if (n.metadata.name === except) continue;
      for (const c of [n.spec?.podCIDR, ...((n.spec?.podCIDRs as string[] | undefined) ?? [])]) {
        const i = c ? this.#set.indexOf(c) : undefined;
        if (i !== undefined) used.add(i);
      }
    }
    for (const [name, c] of this.#pending) {
      const i = this.#set.indexOf(c);
      if (name !== except && i !== undefined) used.add(i);
    }
    return used;
  }

  async reconcile(name: string): Promise<void> {
    const node = this.#nodes.store.get(name);
    if (!node) {
      this.#pending.delete(name);
      return;
    }
    if (node.spec?.podCIDR) {
      this.#pending.delete(name);
      return;
    }
    let cidr = this.#pending.get(name);
    if (!cidr) {
      const taken = this.#taken(name);
      let i = 0;
      while (i < this.#set.size && taken.has(i)) i++;
      if (i >= this.#set.size) {
        this.#events.record(
          node,
          'Normal',
          'CIDRNotAvailable',
          `Node ${name} status is now: CIDRNotAvailable`,
        );
        throw new ConflictError(`allocating a pod CIDR for node ${name}: ${this.#set.cluster} is full`);
      }
      cidr = this.#set.cidr(i);
      this.#pending.set(name, cidr);
    }
    const copy = structuredClone(node) as Node;
    copy.spec = { ...copy.spec, podCIDR: cidr, podCIDRs: [cidr] };
    try {
      // An update with the cached resourceVersion: a kubelet that picked its own range meanwhile wins.
      await this.#ctx.client.update(resources.nodes, copy);
      this.#ctx.log.info({ node: name, podCIDR: cidr }, 'assigned pod CIDR');
    } catch (err) {
      this.#pending.delete(name);
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }
}

export const nodeIpamFactory =
  (opts: NodeIpamOptions = {}) =>
  (ctx: ControllerContext) =>
    new NodeIpamController(ctx, opts);
