import type { Informer, InformerFactory, Pod } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import {
  byLabelPair,
  bySelectorPair,
  labelPairIndex,
  podIPv4,
  type Service,
  selectorPairIndex,
  servicesForPod,
} from './service-pods.ts';

/** What of a pod its endpoints show: a change elsewhere (container statuses, annotations) syncs nothing. */
export function endpointView(p: Pod): string {
  const spec = p.spec as { hostname?: string; subdomain?: string; nodeName?: string } | undefined;
  return canonicalJsonOf([
    p.metadata.labels,
    p.metadata.deletionTimestamp,
    podIPv4(p),
    p.status?.phase,
    p.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    spec?.hostname,
    spec?.subdomain,
    spec?.nodeName,
    p.spec?.containers.map((c) => c.ports),
  ]);
}

/**
 * The Service and Pod caches both endpoint controllers follow (indexed by
 * selector and label pairs): a Service's key is queued when the Service
 * changes, or when a pod it selects (before or after the change) changes in
 * a way its endpoints show.
 */
export function followServicesAndPods(
  informers: InformerFactory,
  enqueue: (key: string) => void,
): { services: Informer<Service>; pods: Informer<Pod> } {
  const services = informers.informerFor<Service>(
    resources.services,
    {},
    { [selectorPairIndex]: bySelectorPair },
  );
  const pods = informers.informerFor<Pod>(resources.pods, {}, { [labelPairIndex]: byLabelPair });
  const key = (o: Service) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  services.addHandler({
    onAdd: (s) => enqueue(key(s)),
    onUpdate: (_, s) => enqueue(key(s)),
    onDelete: (s) => enqueue(key(s)),
  });
  const podChanged = (pod: Pod, old?: Pod) => {
    for (const k of servicesForPod(services.store, pod, old)) enqueue(k);
  };
  pods.addHandler({
    onAdd: (p) => podChanged(p),
    onUpdate: (old, p) => {
      if (endpointView(old) !== endpointView(p)) podChanged(p, old);
    },
    onDelete: (p) => podChanged(p),
  });
  return { services, pods };
}
