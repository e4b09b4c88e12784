import type { Informer, KubeObject, Node, Workqueue } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue, updateStatusFresh } from './controller.ts';
import type { Service } from './service-pods.ts';

interface LoadBalancerIngress {
  ip: string;
  ipMode: 'VIP';
}

export interface LoadBalancerService extends Service {
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; [key: string]: unknown };
}

function isNodeReady(n: Node): boolean {
  return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** The IPv4 InternalIP of every Ready, schedulable-for-LB node, sorted. */
export function nodeIngress(nodes: readonly Node[]): LoadBalancerIngress[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    if (!isNodeReady(n)) continue;
    // k3s's opt-out label: nodes marked false do not carry LoadBalancer traffic.
    if (n.metadata.labels?.['svccontroller.k3s.cattle.io/enablelb'] === 'false') continue;
    for (const a of n.status?.addresses ?? [])
      if (a.type === 'InternalIP' && !a.address.includes(':')) ips.add(a.address);
  }
  return [...ips].sort().map((ip) => ({ ip, ipMode: 'VIP' as const }));
}

/**
 * LoadBalancer Services the way k3s's servicelb serves them without a cloud:
 * every node's proxy opens the Service's ports (its node ports' rules cover
 * them), and this controller publishes the Ready nodes' InternalIPs as
 * `status.loadBalancer.ingress`, so `kubectl get svc` shows them as
 * EXTERNAL-IP. Services with a `loadBalancerClass` belong to another
 * implementation and are left alone; a Service that stops being a
 * LoadBalancer has the status cleared.
 */
export class ServiceLbController implements Controller {
  readonly name = 'service-lb';
  readonly queue: Workqueue<string>;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #services: Informer<LoadBalancerService>;
  readonly #nodes: Informer<Node>;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    this.#services = ctx.informers.informerFor<LoadBalancerService>(resources.services);
    this.#nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.informers = [this.#services, this.#nodes];
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const svcChanged = (s: LoadBalancerService) => {
      if (s.spec?.type === 'LoadBalancer' || (s.status?.loadBalancer?.ingress ?? []).length > 0)
        this.queue.add(key(s));
    };
    this.#services.addHandler({ onAdd: svcChanged, onUpdate: (_, s) => svcChanged(s) });
    const nodesChanged = (old: Node | undefined, n: Node) => {
      if (old && canonicalJsonOf(nodeIngress([old])) === canonicalJsonOf(nodeIngress([n]))) return;
      for (const s of this.#services.store.list())
        if (s.spec?.type === 'LoadBalancer') this.queue.add(key(s));
    };
    this.#nodes.addHandler({
      onAdd: (n) => nodesChanged(undefined, n),
      onUpdate: nodesChanged,
      onDelete: (n) => nodesChanged(undefined, n),
    });
  }

  async reconcile(key: string): Promise<void> {
    const svc = this.#services.store.get(key);
    if (!svc) return;
    const spec = svc.spec ?? {};
    if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) return;
    const want = spec.type === 'LoadBalancer' ? nodeIngress(this.#nodes.store.list()) : [];
    const have = svc.status?.loadBalancer?.ingress ?? [];
    if (canonicalJsonOf(have) === canonicalJsonOf(want)) return;
    const next: LoadBalancerService = structuredClone(svc);
    next.status = { ...next.status, loadBalancer: want.length > 0 ? { ingress: want } : {} };
    try {
      await updateStatusFresh(this.#ctx.client, resources.services, next);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.#ctx.log.debug({ service: key, ingress: want.map((i) => i.ip) }, 'load balancer status updated');
  }
}

export const newServiceLbController = (ctx: ControllerContext) => new ServiceLbController(ctx);
