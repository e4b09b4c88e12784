import type { Informer, KubeObject, Workqueue } from '../client/index.ts';
import { resources } from '../client/index.ts';
import type { Controller, ControllerContext, Syncable } from './controller.ts';
import { newQueue } from './controller.ts';
import { managedByLabel, serviceNameLabel } from './endpoint-slice.ts';
import {
  type EndpointGroup,
  type EndpointSlice,
  planSlices,
  type SliceEndpoint,
} from './endpoint-slice-plan.ts';
import { SliceWriter } from './endpoint-slice-writer.ts';
import type { EndpointAddress, Endpoints } from './endpoints.ts';
import type { Service } from './service-pods.ts';

export const mirroringManagedBy = 'endpointslicemirroring-controller.k8s.io';
/** On Endpoints the API server or another controller already mirrors itself (the `kubernetes` Service's). */
export const skipMirrorLabel = 'endpointslice.kubernetes.io/skip-mirror';
/** Upstream's --mirroring-max-endpoints-per-subset. */
const maxPerSubset = 1000;

const serviceIndex = (s: EndpointSlice): string[] => {
  const svc = s.metadata.labels?.[serviceNameLabel];
  return svc ? [`${s.metadata.namespace ?? ''}/${svc}`] : [];
};

/** The slices' endpoints of hand-written Endpoints: ready = listed under addresses. */
export function mirroredGroups(ep: Endpoints): EndpointGroup[] {
  const groups: EndpointGroup[] = [];
  for (const subset of ep.subsets ?? []) {
    const ports = (subset.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    const endpoints: SliceEndpoint[] = [];
    const add = (a: EndpointAddress, ready: boolean) => {
      if (endpoints.length >= maxPerSubset || a.ip.includes(':')) return; // IPv4 slices only
      endpoints.push({
        addresses: [a.ip],
        conditions: { ready, serving: ready, terminating: false },
        ...(a.hostname ? { hostname: a.hostname } : {}),
        ...(a.targetRef ? { targetRef: a.targetRef } : {}),
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      });
    };
    for (const a of subset.addresses ?? []) add(a, true);
    for (const a of subset.notReadyAddresses ?? []) add(a, false);
    if (endpoints.length > 0) groups.push({ ports, endpoints });
  }
  return groups;
}

/**
 * Mirrors the Endpoints of selector-less Services (written by hand, e.g.
 * pointing outside the cluster) into EndpointSlices, the only thing the
 * node proxies and DNS read, as upstream's endpointslicemirroring controller
 * does: slices labelled managed-by `endpointslicemirroring-controller.k8s.io`,
 * owned by the Endpoints object. Endpoints labelled `skip-mirror` and
 * Services with a selector (the endpointslice controller's) are left out.
 */
export class EndpointSliceMirroringController implements Controller {
  readonly name = 'endpointslicemirroring';
  readonly queue: Workqueue<string>;
  readonly workers = 5;
  readonly informers: Syncable[];
  readonly #services: Informer<Service>;
  readonly #endpoints: Informer<Endpoints>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #writer: SliceWriter;

  constructor(ctx: ControllerContext) {
    this.#writer = new SliceWriter(ctx.client);
    this.queue = newQueue(ctx);
    this.#services = ctx.informers.informerFor<Service>(resources.services);
    this.#endpoints = ctx.informers.informerFor<Endpoints>(resources.endpoints);
    this.#slices = ctx.informers.informerFor<EndpointSlice>(
      resources.endpointSlices,
      { labelSelector: `${managedByLabel}=${mirroringManagedBy}` },
      { service: serviceIndex },
    );
    this.informers = [this.#services, this.#endpoints, this.#slices];
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    for (const inf of [this.#services, this.#endpoints] as Informer<KubeObject>[])
      inf.addHandler({
        onAdd: (o) => this.queue.add(key(o)),
        onUpdate: (_, o) => this.queue.add(key(o)),
        onDelete: (o) => this.queue.add(key(o)),
      });
    this.#writer.follow(this.#slices, serviceIndex, (k) => this.queue.add(k));
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const svc = this.#services.store.get(key);
    const ep = this.#endpoints.store.get(key);
    const existing = this.#writer.existing(key, this.#slices.store.byIndex('service', key));
    const selector = svc?.spec?.selector;
    const mirror =
      svc &&
      ep &&
      (!selector || Object.keys(selector).length === 0) &&
      ep.metadata.labels?.[skipMirrorLabel] !== 'true';
    const groups = mirror && ep ? mirroredGroups(ep) : [];
    if (!mirror || !ep || groups.length === 0) {
      // Nothing to mirror: no slices (unlike the endpointslice controller, no empty placeholder).
      for (const s of existing) await this.#writer.remove(key, s);
      if (!svc || !ep) this.#writer.forget(key);
      return;
    }
    const labels: Record<string, string> = { ...(ep.metadata.labels ?? {}) };
    labels[serviceNameLabel] = name;
    labels[managedByLabel] = mirroringManagedBy;
    const plan = planSlices({
      meta: {
        namespace,
        generateName: `${name.slice(0, 57)}-`,
        labels,
        owner: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          name,
          uid: ep.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      },
      existing,
      desired: groups,
      maxEndpointsPerSlice: 100,
    });
    if (!(await this.#writer.apply(key, plan))) return;
  }
}

export const newEndpointSliceMirroringController = (ctx: ControllerContext) =>
  new EndpointSliceMirroringController(ctx);
