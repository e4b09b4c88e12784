import type { ReplicaSet } from '../client/index.ts';
import { reconcileNewReplicaSet, reconcileOldReplicaSets } from './deployment-rollout.ts';
import type { DeploymentSync } from './deployment-sync.ts';
import { active, isComplete, replicasOf, statusNum } from './deployment-util.ts';

/** Runs the deployment's strategy for one sync. */
export function rollout(s: DeploymentSync): Promise<void> {
  const type = (s.d.spec?.strategy as { type?: string } | undefined)?.type;
  return type === 'Recreate' ? recreate(s) : rolling(s);
}

/** RollingUpdate: surge the new ReplicaSet, then scale old ones down as availability allows. */
async function rolling(s: DeploymentSync): Promise<void> {
  const { newRS, oldRSs } = await s.syncRevision(true);
  if (!newRS) return;
  const all = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(s, all, newRS)) return s.syncRolloutStatus(all, newRS);
  if (await reconcileOldReplicaSets(s, all, active(oldRSs), newRS)) return s.syncRolloutStatus(all, newRS);
  if (isComplete(s.d, s.d.status ?? {})) await s.cleanUp(oldRSs);
  return s.syncRolloutStatus(all, newRS);
}

/** Recreate: old ReplicaSets to 0, wait until their pods are gone, then the new one to full size. */
async function recreate(s: DeploymentSync): Promise<void> {
  let { newRS, oldRSs } = await s.syncRevision(false);
  const all = (): ReplicaSet[] => [...oldRSs, ...(newRS ? [newRS] : [])];
  let scaledDown = false;
  for (const rs of active(oldRSs)) {
    await s.scale(rs, 0);
    scaledDown = true;
  }
  if (scaledDown || oldPodsRunning(s, oldRSs)) return s.syncRolloutStatus(all(), newRS);
  if (!newRS) ({ newRS, oldRSs } = await s.syncRevision(true));
  if (newRS && replicasOf(newRS) !== replicasOf(s.d)) await s.scale(newRS, replicasOf(s.d));
  if (isComplete(s.d, s.d.status ?? {})) await s.cleanUp(oldRSs);
  return s.syncRolloutStatus(all(), newRS);
}

function oldPodsRunning(s: DeploymentSync, oldRSs: ReplicaSet[]): boolean {
  if (oldRSs.some((rs) => statusNum(rs, 'replicas') > 0)) return true;
  return oldRSs.some((rs) =>
    s.podsOf(rs).some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded'),
  );
}
