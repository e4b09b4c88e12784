import {
  type Deployment,
  keyOf,
  type Pod,
  type ReplicaSet,
  resources,
  type Workqueue,
} from '../client/index.ts';
import { AlreadyExistsError, NotFoundError } from '../lib/errors.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import type { ControllerContext } from './controller.ts';
import { timestamp, updateStatusFresh } from './controller.ts';
import {
  calculateStatus,
  isTimedOut,
  newRSNewReplicas,
  type RolloutOps,
  replicaSetsToCleanUp,
  scaleProportionally,
} from './deployment-rollout.ts';
import {
  byCreation,
  equalIgnoreHash,
  getCondition,
  hasProgressDeadline,
  isComplete,
  isProgressing,
  newCondition,
  podTemplateHash,
  podTemplateHashLabel,
  removeCondition,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  revisionAnnotation,
  revisionOf,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
} from './deployment-util.ts';
import type { EventRecorder } from './events.ts';
import { controllerRef, newControllerRef } from './owner-refs.ts';

/** What a sync needs from its controller. */
export interface SyncHost {
  readonly ctx: ControllerContext;
  readonly events: EventRecorder;
  readonly queue: Workqueue<string>;
  podsOf(rs: ReplicaSet): Pod[];
}

/** One sync of one deployment: the working copy, its ReplicaSets and the writes. */
export class DeploymentSync implements RolloutOps {
  d: Deployment;
  readonly rsList: ReplicaSet[];
  readonly #c: SyncHost;

  constructor(c: SyncHost, d: Deployment, rsList: ReplicaSet[]) {
    this.#c = c;
    this.d = d;
    this.rsList = rsList;
  }

  get #client() {
    return this.#c.ctx.client;
  }
  #now(): string {
    return timestamp(this.#c.ctx.clock.now());
  }
  podsOf(rs: ReplicaSet): Pod[] {
    return this.#c.podsOf(rs);
  }

  /** The ReplicaSet whose template is the deployment's (oldest first on duplicates), and the rest. */
  split(): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const sorted = [...this.rsList].sort(byCreation);
    const newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, this.d.spec?.template));
    return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
  }

  async scale(rs: ReplicaSet, replicas: number): Promise<ReplicaSet> {
    const sizeChanged = replicasOf(rs) !== replicas;
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, this.d)) return rs;
    const copy = structuredClone(rs) as ReplicaSet;
    copy.spec = { ...copy.spec, replicas };
    setReplicasAnnotations(copy, this.d);
    const stored = await this.#patchReplicaSet(rs, copy);
    if (sizeChanged) {
      const dir = replicasOf(rs) < replicas ? 'up' : 'down';
      this.#c.events.record(
        this.d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${dir} replica set ${rs.metadata.name ?? ''} from ${replicasOf(rs)} to ${replicas}`,
      );
    }
    return stored;
  }

  /**
   * Writes spec.replicas, spec.minReadySeconds and the annotations of `next`
   * with a JSON patch that tests the replicas the decision was based on: the
   * RS controller's status writes do not make it fail (an update would), a
   * concurrent scale does.
   */
  #patchReplicaSet(cached: ReplicaSet, next: ReplicaSet): Promise<ReplicaSet> {
    const ops: unknown[] = [
      { op: 'test', path: '/metadata/uid', value: cached.metadata.uid },
      { op: 'test', path: '/spec/replicas', value: replicasOf(cached) },
      { op: 'add', path: '/spec/replicas', value: replicasOf(next) },
      { op: 'add', path: '/spec/minReadySeconds', value: next.spec?.minReadySeconds ?? 0 },
      { op: 'add', path: '/metadata/annotations', value: next.metadata.annotations ?? {} },
    ];
    return this.#client.patch<ReplicaSet>(resources.replicaSets, cached.metadata.name ?? '', 'json', ops, {
      namespace: cached.metadata.namespace,
    });
  }

  isScalingEvent(): boolean {
    const { newRS, oldRSs } = this.split();
    for (const rs of [...oldRSs, ...(newRS ? [newRS] : [])]) {
      if (replicasOf(rs) === 0) continue;
      const desired = rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'];
      if (desired !== undefined && Number(desired) !== replicasOf(this.d)) return true;
    }
    return false;
  }

  /** Paused deployments get Progressing=Unknown DeploymentPaused; resumed ones DeploymentResumed. */
  async checkPaused(): Promise<void> {
    if (!hasProgressDeadline(this.d)) return;
    const cond = getCondition(this.d.status, 'Progressing');
    const paused = Boolean(this.d.spec?.paused);
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    let next: ReturnType<typeof newCondition> | undefined;
    if (paused && cond?.reason !== 'DeploymentPaused') {
      next = newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', this.#now());
    } else if (!paused && cond?.reason === 'DeploymentPaused') {
      next = newCondition(
        'Progressing',
        'Unknown',
        'DeploymentResumed',
        'Deployment is resumed',
        this.#now(),
      );
    }
    if (!next) return;
    const status = structuredClone(this.d.status ?? {});
    setCondition(status, next);
    this.d = await updateStatusFresh(this.#client, resources.deployments, { ...this.d, status });
  }

  async statusOnly(): Promise<void> {
    const { newRS, oldRSs } = await this.syncRevision(false);
    await this.syncStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  /** A scaling event or a paused deployment: scale proportionally, clean up, write status. */
  async scaleAndCleanUp(): Promise<void> {
    const { newRS, oldRSs } = await this.syncRevision(false);
    await scaleProportionally(this, newRS, oldRSs);
    if (this.d.spec?.paused) await this.cleanUp(oldRSs);
    await this.syncStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  async cleanUp(oldRSs: ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(this.d, oldRSs)) {
      try {
        await this.#client.delete(resources.replicaSets, rs.metadata.name ?? '', {
          namespace: rs.metadata.namespace,
          preconditions: { uid: rs.metadata.uid },
        });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
  }

  /**
   * Finds (or with `create`, makes) the new ReplicaSet and keeps revisions in
   * step: a re-used old ReplicaSet gets max(old revisions) + 1, and the
   * deployment's revision annotation follows the new ReplicaSet's.
   */
  async syncRevision(create: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const { newRS: existing, oldRSs } = this.split();
    const revision = Math.max(0, ...oldRSs.map(revisionOf)) + 1;
    if (existing) {
      const copy = structuredClone(existing) as ReplicaSet;
      const annotationsChanged = setNewReplicaSetAnnotations(this.d, copy, revision, true);
      const minReady = this.d.spec?.minReadySeconds ?? 0;
      if (annotationsChanged || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec, minReadySeconds: minReady };
        const stored = await this.#patchReplicaSet(existing, copy);
        return { newRS: stored, oldRSs };
      }
      await this.#setDeploymentRevision(existing.metadata.annotations?.[revisionAnnotation] ?? '');
      if (hasProgressDeadline(this.d) && !getCondition(this.d.status, 'Progressing')) {
        const status = structuredClone(this.d.status ?? {});
        const msg = `Found new replica set "${existing.metadata.name ?? ''}"`;
        setCondition(status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', msg, this.#now()));
        this.d = await updateStatusFresh(this.#client, resources.deployments, { ...this.d, status });
      }
      return { newRS: existing, oldRSs };
    }
    if (!create) return { newRS: undefined, oldRSs };
    return { newRS: await this.#createNewRS(oldRSs, revision), oldRSs };
  }

  async #createNewRS(oldRSs: ReplicaSet[], revision: number): Promise<ReplicaSet> {
    const d = this.d;
    const collisions = d.status?.collisionCount as number | undefined;
    const template = structuredClone(d.spec?.template ?? {});
    const hash = podTemplateHash(template, collisions);
    template.metadata = {
      ...template.metadata,
      labels: { ...template.metadata?.labels, [podTemplateHashLabel]: hash },
    };
    const selector = structuredClone((d.spec?.selector ?? {}) as { matchLabels?: Record<string, string> });
    selector.matchLabels = { ...selector.matchLabels, [podTemplateHashLabel]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name ?? ''}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec = { ...rs.spec, replicas };
    setNewReplicaSetAnnotations(d, rs, revision, false);
    let created: ReplicaSet;
    try {
      created = await this.#client.create(resources.replicaSets, rs);
    } catch (err) {
      if (err instanceof AlreadyExistsError) return this.#collision(rs, err);
      if (hasProgressDeadline(d)) {
        const status = structuredClone(d.status ?? {});
        const msg = `Failed to create new replica set "${rs.metadata.name ?? ''}": ${String(err)}`;
        setCondition(status, newCondition('Progressing', 'False', 'ReplicaSetCreateError', msg, this.#now()));
        this.d = await updateStatusFresh(this.#client, resources.deployments, { ...d, status }).catch(
          () => d,
        );
      }
      throw err;
    }
    if (replicas > 0) {
      const msg = `Scaled up replica set ${created.metadata.name ?? ''} from 0 to ${replicas}`;
      this.#c.events.record(d, 'Normal', 'ScalingReplicaSet', msg);
    }
    await this.#setDeploymentRevision(String(revision));
    if (hasProgressDeadline(this.d)) {
      const status = structuredClone(this.d.status ?? {});
      const msg = `Created new replica set "${created.metadata.name ?? ''}"`;
      setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', msg, this.#now()));
      this.d = await updateStatusFresh(this.#client, resources.deployments, { ...this.d, status });
    }
    return created;
  }

  /** A ReplicaSet of that name exists: ours after all (a stale cache), or a hash collision. */
  async #collision(rs: ReplicaSet, err: unknown): Promise<ReplicaSet> {
    const existing = await this.#client.get<ReplicaSet>(resources.replicaSets, rs.metadata.name ?? '', {
      namespace: rs.metadata.namespace,
    });
    if (
      controllerRef(existing)?.uid === this.d.metadata.uid &&
      equalIgnoreHash(existing.spec?.template, this.d.spec?.template)
    ) {
      return existing;
    }
    const status = { ...this.d.status, collisionCount: Number(this.d.status?.collisionCount ?? 0) + 1 };
    await updateStatusFresh(this.#client, resources.deployments, { ...this.d, status });
    throw err;
  }

  /** The deployment's revision annotation (a metadata patch: status writes keep metadata). */
  async #setDeploymentRevision(revision: string): Promise<void> {
    if (!revision || this.d.metadata.annotations?.[revisionAnnotation] === revision) return;
    const patched = await this.#client.patch<Deployment>(
      resources.deployments,
      this.d.metadata.name ?? '',
      'merge',
      { metadata: { annotations: { [revisionAnnotation]: revision } } },
      { namespace: this.d.metadata.namespace },
    );
    this.d = { ...this.d, metadata: patched.metadata };
  }

  /** Status for scaling/paused syncs: no Progressing changes. */
  async syncStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = calculateStatus(this.d, allRSs, newRS, this.#now());
    if (canonicalJsonOf(status) === canonicalJsonOf(this.d.status ?? {})) return;
    this.d = await updateStatusFresh(this.#client, resources.deployments, { ...this.d, status });
  }

  /** Status plus the Progressing condition (upstream's syncRolloutStatus), and a re-check before the deadline. */
  async syncRolloutStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = this.d;
    const nowMs = this.#c.ctx.clock.now();
    const now = timestamp(nowMs);
    const status = calculateStatus(d, allRSs, newRS, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const cur = getCondition(d.status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
    const rsName = newRS?.metadata.name ?? '';
    if (hasProgressDeadline(d) && !complete) {
      if (isComplete(d, status)) {
        const msg = newRS
          ? `ReplicaSet "${rsName}" has successfully progressed.`
          : `Deployment "${d.metadata.name ?? ''}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', msg, now));
      } else if (isProgressing(d, status)) {
        const c = newCondition(
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `ReplicaSet "${rsName}" is progressing.`,
          now,
        );
        if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, c);
      } else if (isTimedOut(d, status, nowMs)) {
        const msg = `ReplicaSet "${rsName}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', msg, now));
      }
    }
    // A ReplicaSet that cannot create pods (quota, admission, invalid template) shows on the deployment.
    const failure = [...(newRS ? [newRS] : []), ...allRSs]
      .map((rs) => getCondition(rs.status, 'ReplicaFailure'))
      .find((c) => c?.status === 'True');
    if (failure) setCondition(status, { ...failure, lastUpdateTime: failure.lastTransitionTime });
    else removeCondition(status, 'ReplicaFailure');
    if (canonicalJsonOf(status) !== canonicalJsonOf(d.status ?? {})) {
      this.d = await updateStatusFresh(this.#client, resources.deployments, { ...d, status });
      return;
    }
    this.#requeueStuck(status, nowMs);
  }

  /** A rollout making no progress is looked at again when its deadline passes. */
  #requeueStuck(status: Record<string, unknown>, now: number): void {
    const cond = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(this.d) || !cond) return;
    if (isComplete(this.d, status) || cond.reason === 'ProgressDeadlineExceeded') return;
    const due =
      Date.parse(String(cond.lastUpdateTime ?? '')) + Number(this.d.spec?.progressDeadlineSeconds) * 1000;
    this.#c.queue.addAfter(keyOf(this.d), Math.max(1000, due - now + 1000));
  }
}
