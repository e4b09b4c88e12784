import type { ResourceType } from '../resource.ts';
import {
  controllerRevision,
  daemonSet,
  deployment,
  replicaSet,
  replicationController,
  statefulSet,
} from './apps.ts';
import { cronJob, job } from './batch.ts';
import {
  endpointSlice,
  eventsV1Event,
  hpaV1,
  hpaV2,
  lease,
  podDisruptionBudget,
  priorityClass,
  selfSubjectAccessReview,
  selfSubjectReview,
  selfSubjectRulesReview,
  storageClass,
} from './cluster.ts';
import {
  configMap,
  endpoints,
  event,
  limitRange,
  namespace,
  node,
  persistentVolume,
  persistentVolumeClaim,
  podTemplate,
  resourceQuota,
  secret,
  serviceAccount,
} from './core.ts';
import { customResourceDefinition } from './crd.ts';
import { ingress, ingressClass, networkPolicy } from './networking.ts';
import { pod } from './pod.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding } from './rbac.ts';
import { service } from './service.ts';

/**
 * Every built-in kind, in discovery order: group-versions appear in the order
 * their first kind does, and the first version listed for a group is preferred.
 */
export function builtinTypes(): ResourceType[] {
  return [
    namespace,
    pod,
    service,
    endpoints,
    configMap,
    secret,
    node,
    event,
    serviceAccount,
    persistentVolume,
    persistentVolumeClaim,
    resourceQuota,
    limitRange,
    replicationController,
    podTemplate,
    deployment,
    replicaSet,
    statefulSet,
    daemonSet,
    controllerRevision,
    eventsV1Event,
    hpaV2,
    hpaV1,
    job,
    cronJob,
    ingress,
    ingressClass,
    networkPolicy,
    lease,
    endpointSlice,
    podDisruptionBudget,
    role,
    clusterRole,
    roleBinding,
    clusterRoleBinding,
    storageClass,
    priorityClass,
    selfSubjectAccessReview,
    selfSubjectRulesReview,
    selfSubjectReview,
    customResourceDefinition,
  ];
}

export { typesFromCrd } from './crd.ts';
export { needsClusterIp, needsNodePorts } from './service.ts';
