/**
 * ControllerRevision history for workloads that keep it (StatefulSet, and any
 * other controller that records its pod template as apps/v1 ControllerRevisions,
 * as upstream's controller/history package does). A revision's `data` is the
 * patch that restores it: `{"spec":{"template":{...,"$patch":"replace"}}}`, the
 * shape `kubectl rollout undo` applies as a strategic merge patch.
 */
import type { KubeObject, Workload } from '../client/index.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import { podTemplateHash } from './deployment-util.ts';
import { newControllerRef } from './owner-refs.ts';

export const controllerRevisionHashLabel = 'controller-revision-hash';
/** The hash label upstream puts on every ControllerRevision. */
export const revisionHashLabel = 'controller.kubernetes.io/hash';

export type PodTemplate = NonNullable<NonNullable<Workload['spec']>['template']>;

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision?: number;
}

/** The data a revision of `owner` records: its pod template, replacing the whole template on undo. */
export function revisionData(owner: Workload): { spec: { template: Record<string, unknown> } } {
  const template = structuredClone(owner.spec?.template ?? {}) as Record<string, unknown>;
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

/** The pod template a revision records (its data without the patch directive). */
export function templateOfRevision(cr: ControllerRevision): PodTemplate {
  const data = cr.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _directive, ...template } = structuredClone(data?.spec?.template ?? {});
  return template as PodTemplate;
}

export interface NewRevisionOptions {
  owner: Workload;
  apiVersion: string;
  kind: string;
  revision: number;
  collisionCount?: number;
}

/**
 * A new (not yet stored) revision of `owner`: named `<owner>-<hash>`, labelled
 * with the owner's template labels (so the owner's selector finds it, as kubectl
 * does) and the hash, carrying the owner's annotations (kubectl's change-cause).
 */
export function newRevision(o: NewRevisionOptions): ControllerRevision {
  const data = revisionData(o.owner);
  const hash = podTemplateHash(data, o.collisionCount);
  const name = `${o.owner.metadata.name ?? ''}-${hash}`;
  const labels = { ...(o.owner.spec?.template?.metadata?.labels ?? {}), [revisionHashLabel]: hash };
  const cr: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name,
      namespace: o.owner.metadata.namespace,
      labels,
      ownerReferences: [newControllerRef(o.owner, o.apiVersion, o.kind)],
    },
    data,
    revision: o.revision,
  };
  const annotations = { ...(o.owner.metadata.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  if (Object.keys(annotations).length > 0) cr.metadata.annotations = annotations;
  return cr;
}

/** Whether two revisions record the same template (upstream compares the raw data). */
export function equalRevisions(a: ControllerRevision, b: ControllerRevision): boolean {
  return canonicalJsonOf(a.data ?? null) === canonicalJsonOf(b.data ?? null);
}

/** Oldest revision first (by revision number, then creation, then name). */
export function byRevision(a: ControllerRevision, b: ControllerRevision): number {
  return (
    (a.revision ?? 0) - (b.revision ?? 0) ||
    (Date.parse(a.metadata.creationTimestamp ?? '') || 0) -
      (Date.parse(b.metadata.creationTimestamp ?? '') || 0) ||
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')
  );
}

/** The number the next revision gets: one past the highest. */
export function nextRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1;
}

/**
 * The revisions to delete to honour `limit`: the oldest ones not in `live`
 * (names still used by pods, or the current and update revisions).
 */
export function revisionsToPrune(
  revisions: readonly ControllerRevision[],
  live: ReadonlySet<string>,
  limit: number,
): ControllerRevision[] {
  const idle = [...revisions].filter((r) => !live.has(r.metadata.name ?? '')).sort(byRevision);
  const excess = idle.length - Math.max(0, limit);
  return excess > 0 ? idle.slice(0, excess) : [];
}
