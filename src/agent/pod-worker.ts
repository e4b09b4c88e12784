/**
 * Syncs one pod: desired (the Pod from the informer) against actual (the
 * engine's containers labelled with the pod's uid). The hooks come first
 * (network, then volumes), then plan.ts decides which containers to start or
 * remove, the worker does it, and the status is written when it changed.
 * A pod with a deletionTimestamp is stopped (SIGTERM, SIGKILL after the
 * grace period), its hooks are torn down, and its object is deleted with
 * grace 0. Every step is idempotent: the workqueue calls sync again on any
 * event, on back-off expiry and after errors.
 */
import type { Client, Container, Pod } from '../client/index.ts';
import { resources } from '../client/index.ts';
import type { EngineApi } from '../engine/types.ts';
import { ConflictError, describeError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { readActual } from './actual.ts';
import { checkNonRoot, containerConfig, type DnsSettings } from './container-config.ts';
import { ConfigError, type ConfigSource, containerEnv } from './env.ts';
import { type Handler, runHandler } from './handler.ts';
import type { PodIpc } from './ipc.ts';
import { labelContainerName, labelPodUid } from './naming.ts';
import type { PodNetwork, PodSandbox } from './network.ts';
import { type Backoff, planPod } from './plan.ts';
import type { PodLogs } from './pod-logs.ts';
import type { ProbeManager } from './probes.ts';
import { computeStatus, type Waiting } from './status.ts';
import { statusEqual } from './status-equal.ts';
import type { PodVolumes } from './volumes.ts';

export interface PodWorkerOptions {
  client: Client;
  engine: EngineApi;
  network: Pick<PodNetwork, 'setup' | 'teardown'>;
  volumes: Pick<PodVolumes, 'setup' | 'teardown' | 'mountsFor'>;
  /** Kubelet events (`kubectl describe pod`); optional. */
  events?: { event(obj: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void };
  /** The IPC hook (one IPC namespace per pod); without it each container has its own. */
  ipc?: Pick<PodIpc, 'setup' | 'teardown'>;
  /** The /var/log/pods layout (pod-logs.ts); without it none is kept. */
  logs?: Pick<PodLogs, 'link' | 'remove'>;
  /** The probes hook; without it every running container is ready. */
  probes?: Pick<ProbeManager, 'sync' | 'readiness' | 'forget'>;
  source: ConfigSource;
  dns: DnsSettings;
  hostIP: () => string;
  allocatable: () => { cpu: string; memory: string };
  backoff: Backoff;
  now: () => number;
  log: Logger;
}

/** What a sync asks of its caller. */
export interface SyncResult {
  /** Call sync again after this long (a back-off ends). */
  retryAfterMs?: number;
}

const postStartTimeoutMs = 30_000;

interface Lifecycle {
  postStart?: Handler;
  preStop?: Handler;
}

export class PodWorker {
  readonly #o: PodWorkerOptions;
  /** Image-pull style errors per pod uid and container, with when they happened (for ImagePullBackOff). */
  readonly #errors = new Map<string, Map<string, Waiting & { at: number; count: number }>>();

  constructor(o: PodWorkerOptions) {
    this.#o = o;
  }

  async sync(pod: Pod): Promise<SyncResult> {
    if (pod.metadata.deletionTimestamp) {
      await this.terminate(pod);
      return {};
    }
    const uid = pod.metadata.uid ?? '';
    const errors = this.#errors.get(uid) ?? new Map<string, Waiting & { at: number; count: number }>();
    this.#errors.set(uid, errors);
    let sandbox: PodSandbox | undefined;
    let retryAfterMs: number | undefined;
    const wake = (ms: number) => {
      retryAfterMs = retryAfterMs === undefined ? ms : Math.min(retryAfterMs, ms);
    };
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    let actual = await readActual(this.#o.engine, uid);
    const spec = {
      initContainers: (pod.spec?.initContainers ?? []).map((c) => c.name),
      containers: (pod.spec?.containers ?? []).map((c) => c.name),
      restartPolicy: pod.spec?.restartPolicy ?? 'Always',
    };
    let plan = planPod(spec, actual, this.#o.now(), this.#o.backoff);
    const podWaiting = new Map<string, Waiting>();
    if (!terminal) {
      try {
        sandbox = await this.#o.network.setup(pod);
        if (this.#o.ipc) sandbox.ipcPath = pod.spec?.hostIPC ? null : await this.#o.ipc.setup(uid);
        const paths = await this.#o.volumes.setup(pod);
        for (const action of plan.actions) {
          if (action.type === 'remove') {
            await this.#o.engine.removeContainer(action.id, { force: true }).catch(() => undefined);
            continue;
          }
          const list = action.init ? pod.spec?.initContainers : pod.spec?.containers;
          const c = list?.find((x) => x.name === action.container);
          if (c) await this.#start(pod, c, action, sandbox, paths, errors, wake);
        }
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        // A volume that cannot be set up keeps every container waiting (upstream: FailedMount).
        this.#event(pod, 'Warning', 'FailedMount', err.message);
        for (const name of [...spec.initContainers, ...spec.containers])
          podWaiting.set(name, { reason: 'ContainerCreating', message: err.message });
        wake(this.#o.backoff.baseMs);
      }
      if (plan.actions.length > 0) {
        actual = await readActual(this.#o.engine, uid);
        plan = planPod(spec, actual, this.#o.now(), this.#o.backoff);
      }
    }
    for (const [name, e] of errors) if (!podWaiting.has(name)) podWaiting.set(name, e);
    const podIP = sandbox?.podIP ?? (pod.spec?.hostNetwork ? this.#o.hostIP() : pod.status?.podIP);
    const running = new Map<string, string>();
    for (const c of pod.spec?.containers ?? []) {
      const last = actual.get(c.name)?.at(-1);
      if (last?.status === 'running' && !terminal) running.set(c.name, last.id);
    }
    this.#o.probes?.sync(pod, running, podIP);
    if (plan.retryAfterMs !== undefined) wake(plan.retryAfterMs);
    for (const name of plan.backingOff.keys()) {
      const m = pod.metadata;
      this.#event(
        pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${name} in pod ${m.name}_${m.namespace}(${m.uid})`,
      );
    }
    const status = computeStatus({
      pod,
      actual,
      plan,
      waiting: podWaiting,
      podIP,
      hostIP: this.#o.hostIP(),
      readiness: this.#o.probes?.readiness(uid),
      imageIDs: await this.#imageIDs(pod),
      now: this.#o.now(),
    });
    if (terminal) {
      // A finished pod never runs again: its phase (and an eviction's reason) stay.
      status.phase = pod.status?.phase;
      if (pod.status?.reason)
        Object.assign(status, { reason: pod.status.reason, message: pod.status.message });
    } else if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      // Upstream kills the sandbox of a finished pod: its address goes back to the pool.
      await this.#o.network.teardown(uid);
      await this.#o.ipc?.teardown(uid);
    }
    await this.#writeStatus(pod, status);
    return { retryAfterMs };
  }

  async #start(
    pod: Pod,
    c: Container,
    action: { attempt: number; init: boolean },
    sandbox: PodSandbox,
    paths: Awaited<ReturnType<PodWorkerOptions['volumes']['setup']>>,
    errors: Map<string, Waiting & { at: number; count: number }>,
    wake: (ms: number) => void,
  ): Promise<void> {
    const prev = errors.get(c.name);
    if (prev) {
      const delay = Math.min(this.#o.backoff.baseMs * 2 ** (prev.count - 1), this.#o.backoff.maxMs);
      const left = prev.at + delay - this.#o.now();
      if (left > 0) {
        if (prev.reason === 'ErrImagePull' || prev.reason === 'ImagePullBackOff') {
          prev.reason = 'ImagePullBackOff';
          this.#event(pod, 'Normal', 'BackOff', `Back-off pulling image "${c.image ?? ''}"`);
        }
        wake(left);
        return;
      }
    }
    const fail = (reason: string, message: string) => {
      this.#event(
        pod,
        'Warning',
        'Failed',
        reason === 'ErrImagePull'
          ? `Failed to pull image "${c.image ?? ''}": ${message}`
          : `Error: ${message}`,
      );
      errors.set(c.name, { reason, message, at: this.#o.now(), count: (prev?.count ?? 0) + 1 });
      wake(Math.min(this.#o.backoff.baseMs * 2 ** (prev?.count ?? 0), this.#o.backoff.maxMs));
    };
    const image = c.image ?? '';
    const info = await this.#o.engine.inspectImage(image).then(
      (i) => i,
      (err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      },
    );
    if (!info) {
      const never = c.imagePullPolicy === 'Never';
      if (never)
        fail('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
      else
        fail(
          'ErrImagePull',
          `pulling image "${image}": image not present on the node and pulling is not available`,
        );
      return;
    }
    this.#event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
    let env: string[];
    let mounts: ReturnType<PodWorkerOptions['volumes']['mountsFor']>;
    try {
      checkNonRoot(pod, c, info.Config?.User ?? '');
      env = await containerEnv(c, {
        pod,
        podIP: sandbox.podIP ?? this.#o.hostIP(),
        hostIP: this.#o.hostIP(),
        allocatable: this.#o.allocatable(),
        source: this.#o.source,
      });
      mounts = this.#o.volumes.mountsFor(c.volumeMounts as never, paths);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      fail('CreateContainerConfigError', err.message);
      return;
    }
    errors.delete(c.name);
    const req = containerConfig({
      pod,
      container: c,
      attempt: action.attempt,
      init: action.init,
      env,
      mounts,
      netnsPath: sandbox.netnsPath,
      ipcPath: sandbox.ipcPath,
      podIP: sandbox.podIP,
      dns: this.#o.dns,
    });
    let id: string;
    try {
      id = (await this.#o.engine.createContainer(req)).Id;
    } catch (err) {
      fail('CreateContainerError', describeError(err));
      return;
    }
    await this.#o.logs?.link(pod, c.name, action.attempt, id);
    // A failed start leaves the container "created" with its error: plan.ts
    // sees an exited attempt and backs off, as for a crash (upstream shows
    // RunContainerError then CrashLoopBackOff).
    this.#event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    const started = await this.#o.engine.startContainer(id).then(
      () => {
        this.#event(pod, 'Normal', 'Started', `Started container ${c.name}`);
        return true;
      },
      (err: unknown) => {
        this.#event(pod, 'Warning', 'Failed', `Error: ${describeError(err)}`);
        this.#o.log.debug(
          { pod: pod.metadata.name, container: c.name, err: describeError(err) },
          'container start failed',
        );
        return false;
      },
    );
    const postStart = (c.lifecycle as Lifecycle | undefined)?.postStart;
    if (started && postStart) {
      const target = {
        engine: this.#o.engine,
        containerId: id,
        podIP: sandbox.podIP ?? this.#o.hostIP(),
        ports: c.ports,
      };
      // Upstream: a failed postStart hook kills the container (FailedPostStartHook); its restart follows the policy.
      if (!(await runHandler(postStart, target, postStartTimeoutMs))) {
        this.#o.log.info(
          { pod: pod.metadata.name, container: c.name },
          'postStart hook failed; killing container',
        );
        await this.#o.engine.stopContainer(id, { timeout: 0 }).catch(() => undefined);
      }
    }
  }

  #event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#o.events?.event(pod, type, reason, message);
  }

  async #imageIDs(pod: Pod): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const image = c.image ?? '';
      if (out.has(image)) continue;
      const id = await this.#o.engine.inspectImage(image).then(
        (i) => i.Id,
        () => '',
      );
      out.set(image, id ? `docker.io/library/${image.split(':')[0]}@${id}` : '');
    }
    return out;
  }

  async #writeStatus(pod: Pod, status: NonNullable<Pod['status']>): Promise<void> {
    if (statusEqual(pod.status, status)) return;
    try {
      await this.#o.client.updateStatus(resources.pods, { ...pod, status });
    } catch (err) {
      // The pod changed or went away under us: the informer brings the new version and another sync.
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }

  /** Node-pressure eviction: the pod fails with reason Evicted, its containers stop, its address goes. */
  async evict(pod: Pod, message: string): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    this.#event(pod, 'Warning', 'Evicted', message);
    await this.#o.client.updateStatus(resources.pods, {
      ...pod,
      status: { ...pod.status, phase: 'Failed', reason: 'Evicted', message },
    });
    this.#o.probes?.forget(uid);
    const grace = Number(pod.spec?.terminationGracePeriodSeconds ?? 30);
    const list = await this.#o.engine.listContainers({ filters: { label: [`${labelPodUid}=${uid}`] } });
    await Promise.all(
      list.map((c) => this.#o.engine.stopContainer(c.Id, { timeout: grace }).catch(() => undefined)),
    );
    await this.#o.network.teardown(uid);
    await this.#o.ipc?.teardown(uid);
  }

  /**
   * Stops the pod's containers (SIGTERM, SIGKILL after the grace period),
   * tears down its network and volumes, removes its containers, then deletes
   * the object with grace 0 so it disappears.
   */
  async terminate(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const grace = Number(
      pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
    );
    await this.cleanup(uid, grace, pod);
    const { name = '', namespace } = pod.metadata;
    try {
      await this.#o.client.delete(resources.pods, name, {
        namespace,
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof ConflictError) return;
      throw err;
    }
  }

  /** Stops and removes every container of the pod uid and tears its hooks down. Idempotent. */
  async cleanup(uid: string, graceSeconds: number, pod?: Pod): Promise<void> {
    this.#o.probes?.forget(uid);
    const list = await this.#o.engine.listContainers({
      all: true,
      filters: { label: [`${labelPodUid}=${uid}`] },
    });
    const deadline = this.#o.now() + graceSeconds * 1000;
    await Promise.all(
      list
        .filter((c) => c.State === 'running' || c.State === 'paused')
        .map(async (c) => {
          // preStop runs first and counts against the grace period, as upstream.
          const spec = pod?.spec?.containers.find((x) => x.name === c.Labels[labelContainerName]);
          const preStop = (spec?.lifecycle as Lifecycle | undefined)?.preStop;
          if (preStop && graceSeconds > 0) {
            const target = {
              engine: this.#o.engine,
              containerId: c.Id,
              podIP: pod?.status?.podIP ?? '',
              ports: spec?.ports,
            };
            await runHandler(preStop, target, graceSeconds * 1000);
          }
          const left = Math.max(0, Math.ceil((deadline - this.#o.now()) / 1000));
          if (pod)
            this.#event(pod, 'Normal', 'Killing', `Stopping container ${c.Labels[labelContainerName] ?? ''}`);
          await this.#o.engine
            .stopContainer(c.Id, { timeout: left })
            .catch((err: unknown) =>
              this.#o.log.warn({ container: c.Id, err: describeError(err) }, 'stopping container'),
            );
        }),
    );
    for (const c of list) await this.#o.engine.removeContainer(c.Id, { force: true }).catch(() => undefined);
    await this.#o.network.teardown(uid);
    await this.#o.ipc?.teardown(uid);
    await this.#o.volumes.teardown(uid);
    await this.#o.logs?.remove(uid);
    this.#errors.delete(uid);
    this.#o.log.debug({ uid }, 'pod cleaned up');
  }
}
