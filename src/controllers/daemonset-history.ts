import { type Client, type DaemonSet, type Pod, resources } from '../client/index.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../lib/errors.ts';
import { updateStatusFresh } from './controller.ts';
import {
  type ControllerRevision,
  revisionHashLabel as crHashLabel,
  equalRevisions,
  newRevision,
  nextRevisionNumber,
  revisionsToPrune,
} from './controller-revision.ts';
import { revisionHashLabel } from './daemonset-pods.ts';

/** The hash a DaemonSet revision stands for (its pods carry it as controller-revision-hash). */
export function hashOf(cr: ControllerRevision): string {
  const labels = cr.metadata.labels ?? {};
  return labels[revisionHashLabel] ?? labels[crHashLabel] ?? (cr.metadata.name ?? '').split('-').pop() ?? '';
}

/**
 * Upstream's constructHistory for a DaemonSet: finds the revision recording
 * the current template among those it owns (creating it, numbered one past
 * the highest, when missing; renumbering it when an undo brought an older one
 * back) and returns it. A name taken by a different template is a hash
 * collision: status.collisionCount goes up and the sync is retried.
 */
export async function currentRevision(
  client: Client,
  ds: DaemonSet,
  owned: readonly ControllerRevision[],
): Promise<ControllerRevision> {
  const collisionCount = typeof ds.status?.collisionCount === 'number' ? ds.status.collisionCount : undefined;
  const want = newRevision({
    owner: ds,
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    revision: 0,
    collisionCount,
  });
  want.metadata.labels = { ...want.metadata.labels, [revisionHashLabel]: hashOf(want) };
  const matching = owned.filter((r) => equalRevisions(r, want));
  const next = nextRevisionNumber(owned.filter((r) => !equalRevisions(r, want)));
  const found = [...matching].sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
  if (found) {
    for (const dup of matching.filter((r) => r !== found)) {
      await client
        .delete(resources.controllerRevisions, dup.metadata.name ?? '', { namespace: dup.metadata.namespace })
        .catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
    }
    if ((found.revision ?? 0) >= next) return found;
    return client.update<ControllerRevision>(resources.controllerRevisions, {
      ...structuredClone(found),
      revision: next,
    });
  }
  want.revision = next;
  try {
    return await client.create(resources.controllerRevisions, want);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
    const existing = await client.get<ControllerRevision>(
      resources.controllerRevisions,
      want.metadata.name ?? '',
      { namespace: ds.metadata.namespace },
    );
    const ours = existing.metadata.ownerReferences?.some((r) => r.uid === ds.metadata.uid);
    if (ours && equalRevisions(existing, want)) return existing;
    const copy = structuredClone(ds) as DaemonSet;
    copy.status = { ...copy.status, collisionCount: (collisionCount ?? 0) + 1 };
    await updateStatusFresh(client, resources.daemonSets, copy);
    throw new ConflictError(`creating revision ${want.metadata.name ?? ''}: hash collision, retrying`);
  }
}

/** Deletes the oldest revisions no pod runs beyond spec.revisionHistoryLimit (default 10). */
export async function pruneRevisions(
  client: Client,
  ds: DaemonSet,
  owned: readonly ControllerRevision[],
  current: ControllerRevision,
  pods: readonly Pod[],
): Promise<void> {
  const podHashes = new Set(pods.map((p) => p.metadata.labels?.[revisionHashLabel]));
  const live = new Set(owned.filter((r) => podHashes.has(hashOf(r))).map((r) => r.metadata.name ?? ''));
  live.add(current.metadata.name ?? '');
  const limit = Number(ds.spec?.revisionHistoryLimit ?? 10);
  for (const r of revisionsToPrune(owned, live, limit)) {
    await client
      .delete(resources.controllerRevisions, r.metadata.name ?? '', { namespace: r.metadata.namespace })
      .catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
  }
}
