/**
 * The probes hook: startup, liveness and readiness probes (exec, httpGet,
 * tcpSocket) for every running container that declares them, as the
 * kubelet's prober runs them: a first run after initialDelaySeconds, then
 * every periodSeconds, each bounded by timeoutSeconds, a result flipping only
 * after successThreshold / failureThreshold consecutive outcomes. Liveness
 * and readiness wait for the startup probe to succeed. A failed startup or
 * liveness probe kills the container (the pod worker restarts it by its
 * restart policy and back-off); readiness feeds the container's `ready` and
 * so the pod's Ready condition. Any change of result calls `onChange` with
 * the pod key so the worker reports it.
 *
 * setup = `sync(pod, running containers)` (starts workers for new container
 * ids, stops those of containers that no longer run); teardown = `forget(uid)`.
 */
import type { Pod } from '../client/index.ts';
import type { EngineApi } from '../engine/types.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { type Handler, runHandler } from './handler.ts';

export interface Probe extends Handler {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}
interface ProbedContainer {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}

type Kind = 'startup' | 'liveness' | 'readiness';

interface Worker {
  containerId: string;
  uid: string;
  name: string;
  /** Startup probe passed (true when there is none). */
  started: boolean;
  /** Readiness result (true when there is no readiness probe, once started). */
  ready: boolean;
  timers: NodeJS.Timeout[];
  stopped: boolean;
}

export interface ProbeManagerOptions {
  engine: EngineApi;
  log: Logger;
  /** A result changed: the pod's status should be recomputed. */
  onChange: (podKey: string) => void;
  /** Kills a container whose startup or liveness probe failed (its restart is the worker's). */
  kill: (containerId: string, graceSeconds: number) => Promise<void>;
}

export class ProbeManager {
  readonly #o: ProbeManagerOptions;
  /** By container id. */
  readonly #workers = new Map<string, Worker>();

  constructor(o: ProbeManagerOptions) {
    this.#o = o;
  }

  /** Starts probing the pod's running containers (name → id), stops probing the others. */
  sync(pod: Pod, running: Map<string, string>, podIP: string | undefined): void {
    const uid = pod.metadata.uid ?? '';
    const ids = new Set(running.values());
    for (const w of this.#workers.values()) if (w.uid === uid && !ids.has(w.containerId)) this.#stop(w);
    for (const [name, id] of running) {
      if (this.#workers.has(id)) continue;
      const c = (pod.spec?.containers ?? []).find((x) => x.name === name) as ProbedContainer | undefined;
      if (!c) continue;
      const w: Worker = {
        containerId: id,
        uid,
        name,
        started: !c.startupProbe,
        ready: !c.readinessProbe,
        timers: [],
        stopped: false,
      };
      this.#workers.set(id, w);
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const grace = Number(pod.spec?.terminationGracePeriodSeconds ?? 30);
      const run = (kind: Kind, probe: Probe) =>
        this.#loop(w, kind, probe, { key, podIP: podIP ?? '127.0.0.1', container: c, grace });
      if (c.startupProbe) run('startup', c.startupProbe);
      if (c.livenessProbe) run('liveness', c.livenessProbe);
      if (c.readinessProbe) run('readiness', c.readinessProbe);
    }
  }

  /** Readiness of the pod's containers that have a probe worker (name → ready && started). */
  readiness(uid: string): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const w of this.#workers.values()) if (w.uid === uid) out.set(w.name, w.started && w.ready);
    return out;
  }

  forget(uid: string): void {
    for (const w of this.#workers.values()) if (w.uid === uid) this.#stop(w);
  }

  stopAll(): void {
    for (const w of this.#workers.values()) this.#stop(w);
  }

  #stop(w: Worker): void {
    w.stopped = true;
    for (const t of w.timers) clearTimeout(t);
    this.#workers.delete(w.containerId);
  }

  #loop(
    w: Worker,
    kind: Kind,
    p: Probe,
    ctx: { key: string; podIP: string; container: ProbedContainer; grace: number },
  ): void {
    const period = (p.periodSeconds ?? 10) * 1000;
    const timeout = (p.timeoutSeconds ?? 1) * 1000;
    const needOk = kind === 'liveness' || kind === 'startup' ? 1 : (p.successThreshold ?? 1);
    const needFail = p.failureThreshold ?? 3;
    let oks = 0;
    let fails = 0;
    const tick = async () => {
      if (w.stopped || (kind === 'startup' && w.started)) return;
      // Liveness and readiness wait for the startup probe.
      if (kind !== 'startup' && !w.started) {
        schedule(period);
        return;
      }
      const ok = await this.#probe(w.containerId, p, ctx, timeout).catch(() => false);
      if (w.stopped) return;
      if (ok) {
        oks++;
        fails = 0;
      } else {
        fails++;
        oks = 0;
      }
      if (kind === 'startup' && ok && oks >= needOk) {
        w.started = true;
        this.#o.onChange(ctx.key);
        return;
      }
      if (kind === 'readiness') {
        const next = ok ? (oks >= needOk ? true : w.ready) : fails >= needFail ? false : w.ready;
        if (next !== w.ready) {
          w.ready = next;
          this.#o.onChange(ctx.key);
        }
      }
      if ((kind === 'liveness' || kind === 'startup') && fails >= needFail) {
        this.#o.log.info({ pod: ctx.key, container: w.name, probe: kind }, 'probe failed; killing container');
        this.#stop(w);
        await this.#o
          .kill(w.containerId, ctx.grace)
          .catch((err: unknown) =>
            this.#o.log.warn(
              { container: w.containerId, err: describeError(err) },
              'killing container after probe failure',
            ),
          );
        return;
      }
      schedule(period);
    };
    const schedule = (ms: number) => {
      if (!w.stopped) w.timers.push(setTimeout(() => void tick(), ms));
    };
    schedule((p.initialDelaySeconds ?? 0) * 1000);
  }

  #probe(
    containerId: string,
    p: Probe,
    ctx: { podIP: string; container: ProbedContainer },
    timeoutMs: number,
  ): Promise<boolean> {
    return runHandler(
      p,
      { engine: this.#o.engine, containerId, podIP: ctx.podIP, ports: ctx.container.ports },
      timeoutMs,
    );
  }
}
