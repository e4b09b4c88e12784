/**
 * One StatefulSet sync, upstream's updateStatefulSet: make pods 0..N-1 exist
 * (with their claims), remove ordinals >= N from the highest down, then roll
 * pods onto the update revision from the highest ordinal down to the
 * partition. With OrderedReady (monotonic) each step waits for the previous
 * pod to be Running and Ready and at most one pod is created or deleted per
 * sync; Parallel creates and deletes without waiting.
 */
import { type Client, keyOf, type Pod, resources, type StatefulSet } from '../client/index.ts';
import { AlreadyExistsError, describeError, NotFoundError, UnavailableError } from '../lib/errors.ts';
import type { PodTemplate } from './controller-revision.ts';
import type { EventRecorder } from './events.ts';
import { patchOwnerRefs } from './owner-refs.ts';
import { isPodAvailable, isPodReady } from './pod-status.ts';
import {
  type Claim,
  claimOwnerRefs,
  claimsFor,
  descendingOrdinal,
  identityMatches,
  identityPatch,
  isFinished,
  isHealthy,
  isRunningAndReady,
  isTerminating,
  newSetPod,
  ordinalOf,
  revisionOfPod,
} from './statefulset-pods.ts';

export interface Revision {
  name: string;
  template: PodTemplate;
}

export interface SyncInput {
  set: StatefulSet;
  /** Pods the set controls whose names are members (`<set>-<n>`), from the cache. */
  pods: readonly Pod[];
  current: Revision;
  update: Revision;
  /** A claim from the cache. */
  claim(namespace: string, name: string): Claim | undefined;
  now: number;
}

export interface SyncEffects {
  client: Client;
  events: EventRecorder;
}

export interface SetStatus {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount?: number;
}

const replicasOf = (set: StatefulSet): number => Number(set.spec?.replicas ?? 1);
const partitionOf = (set: StatefulSet): number => {
  const st = set.spec?.updateStrategy as
    | { type?: string; rollingUpdate?: { partition?: number } }
    | undefined;
  return st?.type === 'OnDelete' ? 0 : Number(st?.rollingUpdate?.partition ?? 0);
};
export const isRollingUpdate = (set: StatefulSet): boolean =>
  ((set.spec?.updateStrategy as { type?: string } | undefined)?.type ?? 'RollingUpdate') === 'RollingUpdate';
export const isParallel = (set: StatefulSet): boolean => set.spec?.podManagementPolicy === 'Parallel';

/** Runs the sync and returns the status it leaves (pods created count, deleted ones do not). */
export async function syncStatefulSet(input: SyncInput, fx: SyncEffects): Promise<SetStatus> {
  const pods = new Map<number, Pod>();
  await new SetSync(input, fx, pods).run();
  return statusOf(input, [...pods.values()]);
}

class SetSync {
  readonly #in: SyncInput;
  readonly #fx: SyncEffects;
  /** What exists after this sync's writes, by ordinal (the status is computed from it). */
  readonly #live: Map<number, Pod>;

  constructor(input: SyncInput, fx: SyncEffects, live: Map<number, Pod>) {
    this.#in = input;
    this.#fx = fx;
    this.#live = live;
    for (const p of input.pods) live.set(ordinalOf(input.set, p), p);
  }

  async run(): Promise<void> {
    const { set, update, current } = this.#in;
    if (set.metadata.deletionTimestamp) return;
    const want = replicasOf(set);
    const monotonic = !isParallel(set);
    const partition = partitionOf(set);
    const minReady = Number(set.spec?.minReadySeconds ?? 0);
    const { now } = this.#in;
    const replicas: (Pod | undefined)[] = Array.from({ length: want }, (_, i) => this.#live.get(i));
    const condemned = [...this.#live.entries()]
      .filter(([ord]) => ord >= want)
      .map(([, p]) => p)
      .sort(descendingOrdinal(set));
    const firstUnhealthy = [...replicas, ...condemned].find((p) => !p || !isHealthy(p));
    const templateFor = (ord: number): Revision =>
      isRollingUpdate(set) && ord < partition ? current : update;

    for (let ord = 0; ord < want; ord++) {
      const pod = replicas[ord];
      if (pod && isFinished(pod) && !isTerminating(pod)) {
        // A failed (or succeeded) member is replaced under the same name once it is gone.
        await this.#delete(pod);
        if (monotonic) return;
        continue;
      }
      if (!pod) {
        await this.#create(ord, templateFor(ord));
        if (monotonic) return;
        continue;
      }
      if (isTerminating(pod)) {
        if (monotonic) return;
        continue;
      }
      // Each pod's predecessors are Running and available (ready for minReadySeconds) before it is made.
      if (monotonic && !(isRunningAndReady(pod) && isPodAvailable(pod, minReady, now))) return;
      await this.#ensureClaims(pod, ord);
      if (!identityMatches(set, pod)) {
        const patched = await this.#fx.client.patch<Pod>(
          resources.pods,
          pod.metadata.name ?? '',
          'merge',
          identityPatch(set, pod),
          { namespace: pod.metadata.namespace },
        );
        this.#live.set(ord, patched);
      }
    }

    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return;
        continue;
      }
      if (monotonic && !isRunningAndReady(pod) && pod !== firstUnhealthy) return;
      await this.#ensureClaims(pod, ordinalOf(set, pod), true);
      await this.#delete(pod);
      if (monotonic) return;
    }

    if (!isRollingUpdate(set)) return;
    for (let ord = want - 1; ord >= partition; ord--) {
      const pod = this.#live.get(ord);
      if (!pod) return;
      if (revisionOfPod(pod) !== update.name && !isTerminating(pod)) {
        await this.#delete(pod);
        return;
      }
      if (!isHealthy(pod) || !isPodAvailable(pod, minReady, now)) return;
    }
  }

  async #create(ord: number, rev: Revision): Promise<void> {
    const { set } = this.#in;
    const pod = newSetPod(set, rev.template, ord, rev.name);
    await this.#ensureClaims(pod, ord);
    try {
      const created = await this.#fx.client.create<Pod>(resources.pods, pod);
      this.#live.set(ord, created);
      this.#event(
        'Normal',
        'SuccessfulCreate',
        `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
      );
    } catch (err) {
      // The previous pod of this name is still going away: its deletion event brings us back.
      if (err instanceof AlreadyExistsError) return;
      this.#event(
        'Warning',
        'FailedCreate',
        `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${describeError(err)}`,
      );
      throw err;
    }
  }

  async #delete(pod: Pod): Promise<void> {
    const { set } = this.#in;
    try {
      await this.#fx.client.delete(resources.pods, pod.metadata.name ?? '', {
        namespace: pod.metadata.namespace,
        preconditions: { uid: pod.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.#live.delete(ordinalOf(set, pod));
    this.#event(
      'Normal',
      'SuccessfulDelete',
      `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
    );
  }

  /**
   * Creates the pod's missing claims and keeps their retention-policy owners
   * right; a claim being deleted stops the pod (it would lose its data).
   */
  async #ensureClaims(pod: Pod, ord: number, condemned = false): Promise<void> {
    const { set } = this.#in;
    for (const claim of claimsFor(set, ord).values()) {
      const name = claim.metadata.name ?? '';
      const cached = this.#in.claim(set.metadata.namespace ?? '', name);
      if (cached?.metadata.deletionTimestamp) {
        if (condemned) continue;
        throw new UnavailableError(
          `creating pod ${keyOf(pod)}: persistentvolumeclaim "${name}" is being deleted`,
        );
      }
      if (cached) {
        const refs = claimOwnerRefs(set, cached, pod, condemned);
        const cur = cached.metadata.ownerReferences ?? [];
        if (JSON.stringify(refs) !== JSON.stringify(cur))
          await patchOwnerRefs(this.#fx.client, resources.persistentVolumeClaims, cached, refs);
        continue;
      }
      if (condemned) continue;
      const refs = claimOwnerRefs(set, claim, undefined, false);
      if (refs.length > 0) claim.metadata.ownerReferences = refs;
      try {
        await this.#fx.client.create(resources.persistentVolumeClaims, claim);
        this.#event(
          'Normal',
          'SuccessfulCreate',
          `create Claim ${name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`,
        );
      } catch (err) {
        if (err instanceof AlreadyExistsError) continue;
        this.#event(
          'Warning',
          'FailedCreate',
          `create Claim ${name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${describeError(err)}`,
        );
        throw err;
      }
    }
  }

  #event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#fx.events.record(this.#in.set, type, reason, message);
  }
}

/** Status from the pods left after the sync (upstream's counting, then completeRollingUpdate). */
export function statusOf(input: SyncInput, pods: readonly Pod[]): SetStatus {
  const { set, current, update, now } = input;
  const minReady = Number(set.spec?.minReadySeconds ?? 0);
  const live = pods.filter((p) => !isTerminating(p));
  const status: SetStatus = {
    observedGeneration: set.metadata.generation ?? 0,
    replicas: live.length,
    readyReplicas: live.filter(isPodReady).length,
    currentReplicas: live.filter((p) => revisionOfPod(p) === current.name).length,
    updatedReplicas: live.filter((p) => revisionOfPod(p) === update.name).length,
    availableReplicas: live.filter((p) => isPodAvailable(p, minReady, now)).length,
    currentRevision: current.name,
    updateRevision: update.name,
  };
  const collisions = set.status?.collisionCount;
  if (typeof collisions === 'number') status.collisionCount = collisions;
  if (
    isRollingUpdate(set) &&
    status.updatedReplicas === status.replicas &&
    status.readyReplicas === status.replicas &&
    status.replicas === replicasOf(set)
  ) {
    status.currentRevision = update.name;
    status.currentReplicas = status.updatedReplicas;
  }
  return status;
}
