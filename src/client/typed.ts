import type { Client, GetOptions } from './client.ts';
import { splitKey } from './client.ts';
import type {
  Binding,
  DaemonSet,
  Deployment,
  Event,
  Eviction,
  Job,
  Lease,
  Node,
  Pod,
  ReplicaSet,
  Scale,
  StatefulSet,
  Workload,
} from './objects.ts';
import { resources } from './resources.ts';
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  Resource,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './types.ts';

/** A Client bound to one resource and object type: `cs.pods.get('web', { namespace: 'default' })`. */
export class ResourceClient<T extends KubeObject> {
  readonly client: Client;
  readonly resource: Resource;

  constructor(client: Client, resource: Resource) {
    this.client = client;
    this.resource = resource;
  }

  get(name: string, opts?: GetOptions): Promise<T> {
    return this.client.get<T>(this.resource, name, opts);
  }
  /** Gets by a cache key (`namespace/name` or `name`). */
  getByKey(key: string, opts?: Omit<GetOptions, 'namespace'>): Promise<T> {
    const { namespace, name } = splitKey(key);
    return this.client.get<T>(this.resource, name, { ...opts, namespace: namespace || undefined });
  }
  list(opts?: ListOptions): Promise<ObjectList<T>> {
    return this.client.list<T>(this.resource, opts);
  }
  create(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.create(this.resource, obj, opts);
  }
  update(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.update(this.resource, obj, opts);
  }
  updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.updateStatus(this.resource, obj, opts);
  }
  patch(name: string, type: PatchType, patch: unknown, opts?: PatchOptions): Promise<T> {
    return this.client.patch<T>(this.resource, name, type, patch, opts);
  }
  delete(name: string, opts?: DeleteOptions): Promise<T | undefined> {
    return this.client.delete<T>(this.resource, name, opts);
  }
  watch(opts?: WatchOptions): AsyncIterable<WatchEvent<T>> {
    return this.client.watch<T>(this.resource, opts);
  }
}

/** Pods plus their subresources binding and eviction. */
export class PodClient extends ResourceClient<Pod> {
  /** POST pods/{name}/binding: assigns the pod to `nodeName`. */
  bind(namespace: string, name: string, nodeName: string, opts?: WriteOptions): Promise<unknown> {
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    return this.client.createSubresource(this.resource, name, 'binding', binding, { ...opts, namespace });
  }
  /** POST pods/{name}/eviction; a PodDisruptionBudget refusal (429) surfaces as UnavailableError. */
  evict(namespace: string, name: string, deleteOptions?: Eviction['deleteOptions']): Promise<unknown> {
    const eviction: Eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace },
      ...(deleteOptions ? { deleteOptions } : {}),
    };
    return this.client.createSubresource(this.resource, name, 'eviction', eviction, { namespace });
  }
}

/** Workloads with a `scale` subresource. */
export class ScalableClient<T extends Workload> extends ResourceClient<T> {
  getScale(name: string, opts?: GetOptions): Promise<Scale> {
    return this.client.getSubresource<Scale>(this.resource, name, 'scale', opts);
  }
  updateScale(scale: Scale, opts?: WriteOptions): Promise<Scale> {
    const name = scale.metadata.name ?? '';
    return this.client.updateSubresource<Scale>(this.resource, name, 'scale', scale, {
      ...opts,
      namespace: scale.metadata.namespace ?? opts?.namespace,
    });
  }
}

/** Typed clients for the built-in kinds, all over one generic Client. */
export interface Clientset {
  client: Client;
  pods: PodClient;
  nodes: ResourceClient<Node>;
  services: ResourceClient<KubeObject>;
  endpoints: ResourceClient<KubeObject>;
  endpointSlices: ResourceClient<KubeObject>;
  events: ResourceClient<Event>;
  configMaps: ResourceClient<KubeObject>;
  secrets: ResourceClient<KubeObject>;
  namespaces: ResourceClient<KubeObject>;
  persistentVolumes: ResourceClient<KubeObject>;
  persistentVolumeClaims: ResourceClient<KubeObject>;
  serviceAccounts: ResourceClient<KubeObject>;
  deployments: ScalableClient<Deployment>;
  replicaSets: ScalableClient<ReplicaSet>;
  statefulSets: ScalableClient<StatefulSet>;
  daemonSets: ResourceClient<DaemonSet>;
  controllerRevisions: ResourceClient<KubeObject>;
  jobs: ResourceClient<Job>;
  cronJobs: ResourceClient<KubeObject>;
  leases: ResourceClient<Lease>;
}

export function clientset(client: Client): Clientset {
  const rc = <T extends KubeObject>(r: Resource) => new ResourceClient<T>(client, r);
  return {
    client,
    pods: new PodClient(client, resources.pods),
    nodes: rc(resources.nodes),
    services: rc(resources.services),
    endpoints: rc(resources.endpoints),
    endpointSlices: rc(resources.endpointSlices),
    events: rc(resources.events),
    configMaps: rc(resources.configMaps),
    secrets: rc(resources.secrets),
    namespaces: rc(resources.namespaces),
    persistentVolumes: rc(resources.persistentVolumes),
    persistentVolumeClaims: rc(resources.persistentVolumeClaims),
    serviceAccounts: rc(resources.serviceAccounts),
    deployments: new ScalableClient(client, resources.deployments),
    replicaSets: new ScalableClient(client, resources.replicaSets),
    statefulSets: new ScalableClient(client, resources.statefulSets),
    daemonSets: rc(resources.daemonSets),
    controllerRevisions: rc(resources.controllerRevisions),
    jobs: rc(resources.jobs),
    cronJobs: rc(resources.cronJobs),
    leases: rc(resources.leases),
  };
}
