import type { Resource } from './types.ts';

const core = (resource: string, kind: string, namespaced = true): Resource => ({
  group: '',
  version: 'v1',
  resource,
  kind,
  namespaced,
});
const grouped = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced = true,
): Resource => ({
  group,
  version,
  resource,
  kind,
  namespaced,
});

/** The built-in resources Drover's components use. Any other (CRDs) is just another `Resource` value. */
export const resources = {
  pods: core('pods', 'Pod'),
  nodes: core('nodes', 'Node', false),
  services: core('services', 'Service'),
  endpoints: core('endpoints', 'Endpoints'),
  events: core('events', 'Event'),
  configMaps: core('configmaps', 'ConfigMap'),
  secrets: core('secrets', 'Secret'),
  namespaces: core('namespaces', 'Namespace', false),
  persistentVolumes: core('persistentvolumes', 'PersistentVolume', false),
  persistentVolumeClaims: core('persistentvolumeclaims', 'PersistentVolumeClaim'),
  serviceAccounts: core('serviceaccounts', 'ServiceAccount'),
  replicationControllers: core('replicationcontrollers', 'ReplicationController'),
  resourceQuotas: core('resourcequotas', 'ResourceQuota'),
  limitRanges: core('limitranges', 'LimitRange'),
  endpointSlices: grouped('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  deployments: grouped('apps', 'v1', 'deployments', 'Deployment'),
  replicaSets: grouped('apps', 'v1', 'replicasets', 'ReplicaSet'),
  statefulSets: grouped('apps', 'v1', 'statefulsets', 'StatefulSet'),
  daemonSets: grouped('apps', 'v1', 'daemonsets', 'DaemonSet'),
  controllerRevisions: grouped('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  jobs: grouped('batch', 'v1', 'jobs', 'Job'),
  cronJobs: grouped('batch', 'v1', 'cronjobs', 'CronJob'),
  leases: grouped('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  eventsV1: grouped('events.k8s.io', 'v1', 'events', 'Event'),
  podDisruptionBudgets: grouped('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
  priorityClasses: grouped('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false),
  storageClasses: grouped('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
} as const satisfies Record<string, Resource>;

export type ResourceName = keyof typeof resources;
