import type { Informer, Pod, Workqueue } from '../client/index.ts';
import { resources } from '../client/index.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue } from './controller.ts';
import {
  type EndpointGroup,
  type EndpointSlice,
  planSlices,
  type SliceEndpoint,
} from './endpoint-slice-plan.ts';
import { SliceWriter } from './endpoint-slice-writer.ts';
import { followServicesAndPods } from './service-pod-informers.ts';
import {
  endpointConditions,
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

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const managedBy = 'endpointslice-controller.k8s.io';
export const headlessLabel = 'service.kubernetes.io/headless';
/** Upstream's default --max-endpoints-per-slice. */
export const defaultMaxEndpointsPerSlice = 100;

const serviceIndex = (s: EndpointSlice): string[] => {
  const svc = s.metadata.labels?.[serviceNameLabel];
  return svc ? [`${s.metadata.namespace ?? ''}/${svc}`] : [];
};

export interface EndpointSliceOptions {
  maxEndpointsPerSlice?: number;
}

/**
 * Keeps each selector Service's EndpointSlices (discovery.k8s.io/v1, IPv4)
 * in step with the pods it selects: one endpoint per pod with an address
 * that has not terminated (terminating pods stay, with ready=false), a slice
 * per distinct resolution of named targetPorts, at most 100 endpoints per
 * slice, owned by the Service and labelled `kubernetes.io/service-name` and
 * managed-by `endpointslice-controller.k8s.io`. Pod and Service events are
 * synced at once (no batching period); slices whose content is unchanged are
 * not written.
 */
export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  readonly queue: Workqueue<string>;
  /** Upstream's --concurrent-service-endpoint-syncs default. */
  readonly workers = 5;
  readonly informers: Syncable[];
  readonly #ctx: ControllerContext;
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #writer: SliceWriter;
  readonly #max: number;

  constructor(ctx: ControllerContext, opts: EndpointSliceOptions = {}) {
    this.#ctx = ctx;
    this.#writer = new SliceWriter(ctx.client);
    this.#max = opts.maxEndpointsPerSlice ?? defaultMaxEndpointsPerSlice;
    this.queue = newQueue(ctx);
    const followed = followServicesAndPods(ctx.informers, (k) => this.queue.add(k));
    this.#services = followed.services;
    this.#pods = followed.pods;
    this.#slices = ctx.informers.informerFor<EndpointSlice>(
      resources.endpointSlices,
      { labelSelector: `${managedByLabel}=${managedBy}` },
      { service: serviceIndex },
    );
    this.informers = [this.#services, this.#pods, this.#slices];
    this.#writer.follow(this.#slices, serviceIndex, (k) => this.queue.add(k));
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const svc = this.#services.store.get(key);
    const existing = this.#writer.existing(key, this.#slices.store.byIndex('service', key));
    const selector = svc ? managedSelector(svc) : undefined;
    if (!svc || !selector) {
      // Gone (the garbage collector would also get there, through ownerReferences) or no longer selecting pods.
      for (const s of existing) await this.#writer.remove(key, s);
      if (!svc) this.#writer.forget(key);
      return;
    }
    const pods = selectedPods(this.#pods.store, svc).filter((p) => shouldPodBeInEndpoints(p, true));
    const plan = planSlices({
      meta: {
        namespace,
        generateName: `${name.slice(0, 57)}-`,
        labels: this.#labels(svc),
        owner: {
          apiVersion: 'v1',
          kind: 'Service',
          name,
          uid: svc.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      },
      existing,
      desired: groupEndpoints(svc, pods),
      maxEndpointsPerSlice: this.#max,
    });
    if (!(await this.#writer.apply(key, plan))) return;
    if (plan.create.length + plan.update.length + plan.delete.length > 0)
      this.#ctx.log.debug(
        {
          service: key,
          created: plan.create.length,
          updated: plan.update.length,
          deleted: plan.delete.length,
        },
        'endpoint slices synced',
      );
  }

  /** The Service's labels with the slice's own (upstream's setEndpointSliceLabels). */
  #labels(svc: Service): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.metadata.labels ?? {}))
      if (k !== serviceNameLabel && k !== managedByLabel && k !== headlessLabel) labels[k] = v;
    labels[serviceNameLabel] = svc.metadata.name ?? '';
    labels[managedByLabel] = managedBy;
    if (isHeadless(svc)) labels[headlessLabel] = '';
    return labels;
  }
}

/** The Service's endpoints, grouped by how its ports resolve on each pod. */
export function groupEndpoints(svc: Service, pods: readonly Pod[]): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  for (const pod of pods) {
    const ip = podIPv4(pod);
    if (!ip) continue;
    const ports = endpointPorts(svc, pod);
    const k = portsKey(ports);
    let g = groups.get(k);
    if (!g) {
      g = { ports, endpoints: [] };
      groups.set(k, g);
    }
    const hostname = endpointHostname(svc, pod);
    const nodeName = pod.spec?.nodeName;
    const ep: SliceEndpoint = {
      addresses: [ip],
      conditions: endpointConditions(svc, pod),
      ...(hostname ? { hostname } : {}),
      targetRef: podRef(pod),
      ...(nodeName ? { nodeName } : {}),
    };
    g.endpoints.push(ep);
  }
  return [...groups.values()];
}

export const newEndpointSliceController = (ctx: ControllerContext) => new EndpointSliceController(ctx);
