import type { Informer, KubeObject, Pod, Workqueue } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { AlreadyExistsError, ForbiddenError, NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue } from './controller.ts';
import { headlessLabel } from './endpoint-slice.ts';
import { isPodReady } from './pod-status.ts';
import { followServicesAndPods } from './service-pod-informers.ts';
import {
  type EndpointPort,
  endpointHostname,
  endpointPorts,
  isHeadless,
  managedSelector,
  podIPv4,
  podRef,
  portsKey,
  type Service,
  selectedPods,
  shouldPodBeInEndpoints,
} from './service-pods.ts';

/** Upstream's cap on addresses in one Endpoints object; past it the object is truncated and annotated. */
export const maxEndpointsAddresses = 1000;
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';
/** Old leader-election records kept in Endpoints; never the controller's to delete. */
const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ReturnType<typeof podRef>;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

/**
 * The core/v1 Endpoints of each selector Service (what `kubectl get
 * endpoints` shows and older clients read): ready pods under `addresses`,
 * the others under `notReadyAddresses` (all ready with
 * publishNotReadyAddresses; terminating pods left out unless it is set), one
 * subset per distinct resolution of named targetPorts, at most 1000
 * addresses. Deleted with its Service; written only when its content changes.
 */
export class EndpointsController implements Controller {
  readonly name = 'endpoint';
  readonly queue: Workqueue<string>;
  /** Upstream's --concurrent-endpoint-syncs default. */
  readonly workers = 5;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #endpoints: Informer<Endpoints>;
  /** The last object written per key, until the cache shows it (a stale cache must not hide our own write). */
  readonly #written = new Map<string, Endpoints>();

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.queue = newQueue(ctx);
    const followed = followServicesAndPods(ctx.informers, (k) => this.queue.add(k));
    this.#services = followed.services;
    this.#pods = followed.pods;
    this.#endpoints = ctx.informers.informerFor<Endpoints>(resources.endpoints);
    this.informers = [this.#services, this.#pods, this.#endpoints];
    // Someone deleted the object: write it again (as upstream, other changes are not watched for).
    // Objects of the first list are looked at once (upstream's checkLeftoverEndpoints): those whose
    // Service went while no controller ran are deleted by reconcile, which runs after every cache synced.
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    let listed = false;
    void this.#endpoints.waitForSync().then(() => {
      listed = true;
    });
    this.#endpoints.addHandler({
      onAdd: (e) => {
        if (!listed && !e.metadata.annotations?.[leaderAnnotation]) this.queue.add(key(e));
      },
      onDelete: (e) => this.queue.add(key(e)),
    });
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const svc = this.#services.store.get(key);
    const client = this.#ctx.client;
    if (!svc) {
      this.#written.delete(key);
      if (!this.#endpoints.store.has(key)) return;
      try {
        await client.delete(resources.endpoints, name, { namespace });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      return;
    }
    const selector = managedSelector(svc);
    if (!selector) return; // endpoints of selector-less Services are written by hand
    const subsets = endpointSubsets(svc, selectedPods(this.#pods.store, svc));
    const current = this.#current(key);
    const want: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? { name, namespace }), labels: endpointsLabels(svc) },
      subsets: subsets.subsets,
    };
    const annotations = { ...(current?.metadata.annotations ?? {}) };
    if (subsets.truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];
    if (Object.keys(annotations).length > 0) want.metadata.annotations = annotations;
    else delete want.metadata.annotations;
    const same = (a: Endpoints, b: Endpoints) =>
      canonicalJsonOf([a.subsets ?? [], a.metadata.labels ?? {}, a.metadata.annotations ?? {}]) ===
      canonicalJsonOf([b.subsets ?? [], b.metadata.labels ?? {}, b.metadata.annotations ?? {}]);
    if (current && same(current, want)) return;
    try {
      const written = current ? await client.update(resources.endpoints, want) : await this.#create(want);
      this.#written.set(key, written);
    } catch (err) {
      if (err instanceof ForbiddenError && !current) return; // the namespace is being deleted
      throw err;
    }
  }

  /** Creates `want`, or updates it when the cache had not shown an existing one. */
  async #create(want: Endpoints): Promise<Endpoints> {
    const client = this.#ctx.client;
    try {
      return await client.create(resources.endpoints, want);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      const live = await client.get<Endpoints>(resources.endpoints, want.metadata.name ?? '', {
        namespace: want.metadata.namespace,
      });
      return client.update(resources.endpoints, {
        ...want,
        metadata: { ...live.metadata, ...want.metadata, resourceVersion: live.metadata.resourceVersion },
      });
    }
  }

  /** The cached object, or our own newer write while the cache lags. */
  #current(key: string): Endpoints | undefined {
    const cached = this.#endpoints.store.get(key);
    const mine = this.#written.get(key);
    if (!mine) return cached;
    const rv = (o?: Endpoints) =>
      BigInt(/^\d+$/.test(o?.metadata.resourceVersion ?? '') ? (o?.metadata.resourceVersion ?? '0') : '0');
    if (cached && rv(cached) >= rv(mine)) {
      this.#written.delete(key);
      return cached;
    }
    return mine;
  }
}

/** The Service's labels, with upstream's headless marker. */
function endpointsLabels(svc: Service): Record<string, string> {
  const labels = { ...(svc.metadata.labels ?? {}) };
  if (isHeadless(svc)) labels[headlessLabel] = '';
  else delete labels[headlessLabel];
  return labels;
}

const byIp = (a: EndpointAddress, b: EndpointAddress) =>
  a.ip.localeCompare(b.ip) || (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? '');

/** Subsets of the Service's Endpoints from the pods its selector matches (upstream's RepackSubsets order). */
export function endpointSubsets(
  svc: Service,
  pods: readonly Pod[],
): { subsets: EndpointSubset[]; truncated: boolean } {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<
    string,
    { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const ports = endpointPorts(svc, pod);
    const k = portsKey(ports);
    let g = groups.get(k);
    if (!g) {
      g = {
        ports: [...ports].sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port),
        ready: [],
        notReady: [],
      };
      groups.set(k, g);
    }
    const hostname = endpointHostname(svc, pod);
    const nodeName = pod.spec?.nodeName;
    const addr: EndpointAddress = {
      ip,
      ...(hostname ? { hostname } : {}),
      ...(nodeName ? { nodeName } : {}),
      targetRef: podRef(pod),
    };
    if (publishNotReady || isPodReady(pod)) g.ready.push(addr);
    else g.notReady.push(addr);
  }
  let budget = maxEndpointsAddresses;
  let truncated = false;
  const subsets: EndpointSubset[] = [];
  for (const k of [...groups.keys()].sort()) {
    const g = groups.get(k);
    if (!g) continue;
    const take = (list: EndpointAddress[]) => {
      const sorted = list.sort(byIp);
      if (sorted.length > budget) truncated = true;
      const out = sorted.slice(0, Math.max(0, budget));
      budget -= out.length;
      return out;
    };
    const ready = take(g.ready);
    const notReady = take(g.notReady);
    if (ready.length + notReady.length === 0) continue;
    subsets.push({
      ...(ready.length ? { addresses: ready } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    });
  }
  return { subsets, truncated };
}

export const newEndpointsController = (ctx: ControllerContext) => new EndpointsController(ctx);
