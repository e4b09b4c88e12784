import { AlreadyExistsError, ConflictError, describeError, NotFoundError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Client } from './client.ts';
import type { Clock } from './clock.ts';
import { realClock, sleep } from './clock.ts';
import type { Lease, LeaseSpec } from './objects.ts';
import { resources } from './resources.ts';

export interface LeaderElectionOptions {
  client: Client;
  /** The coordination.k8s.io/v1 Lease that carries the lock, e.g. kube-system/drover-scheduler. */
  lease: { namespace: string; name: string };
  /** Unique per candidate (hostname + random suffix). */
  identity: string;
  /** How long a lease is honoured without renewal (default 15 s). */
  leaseDurationMs?: number;
  /** A leader that cannot renew for this long steps down (default 10 s; < leaseDuration). */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  /** Runs when this candidate becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Runs once when leadership ends (lost, or released on cancel). */
  onStoppedLeading?(): void;
  /** Runs whenever the observed leader changes (including to this candidate). */
  onNewLeader?(identity: string): void;
  clock?: Clock;
  log?: Logger;
}

/**
 * Leader election over a Lease, with client-go's rules: a candidate takes the
 * lease when it is free or its holder has not renewed it for leaseDuration as
 * observed on the candidate's own clock (no cross-machine clock comparison); the
 * leader renews every retryPeriod and steps down if it could not renew within
 * renewDeadline; optimistic concurrency (resourceVersion) settles races. On
 * cancel, the leader releases the lease so another candidate takes over at once.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'onStoppedLeading' | 'onNewLeader' | 'log'>> &
    LeaderElectionOptions;
  readonly #clock: Clock;
  #observed = '';
  #observedAt = 0;
  #leader = '';
  #isLeader = false;

  constructor(opts: LeaderElectionOptions) {
    this.#clock = opts.clock ?? realClock;
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock: this.#clock,
      ...opts,
    };
  }

  isLeader(): boolean {
    return this.#isLeader;
  }

  /** The identity of the last observed holder ('' when none). */
  get leader(): string {
    return this.#leader;
  }

  /**
   * Campaigns until leader, leads until leadership is lost or `signal` aborts,
   * then resolves (after releasing the lease on cancel). Call again to campaign anew.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !(await this.#tryAcquireOrRenew())) {
      await sleep(this.#clock, this.#o.retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    this.#isLeader = true;
    const leading = new AbortController();
    this.#o.log?.info({ lease: this.#o.lease.name, identity: this.#o.identity }, 'became leader');
    try {
      this.#o.onStartedLeading(leading.signal);
    } catch (err) {
      this.#o.log?.error({ err: describeError(err) }, 'onStartedLeading threw');
    }
    let lastRenew = this.#clock.now();
    while (!signal.aborted) {
      await sleep(this.#clock, this.#o.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.#tryAcquireOrRenew()) lastRenew = this.#clock.now();
      else if (this.#clock.now() - lastRenew >= this.#o.renewDeadlineMs) break;
    }
    this.#isLeader = false;
    leading.abort();
    if (signal.aborted) await this.#release();
    this.#o.log?.info({ lease: this.#o.lease.name, identity: this.#o.identity }, 'stopped leading');
    this.#o.onStoppedLeading?.();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, lease, identity } = this.#o;
    const now = this.#clock.now();
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    let current: Lease;
    try {
      current = await client.get<Lease>(resources.leases, lease.name, { namespace: lease.namespace });
    } catch (err) {
      if (!(err instanceof NotFoundError)) return this.#failed(err);
      try {
        await client.create<Lease>(resources.leases, { metadata: { ...lease }, spec });
        this.#observe(spec, now);
        return true;
      } catch (e) {
        return e instanceof AlreadyExistsError ? false : this.#failed(e);
      }
    }
    const old = current.spec ?? {};
    this.#observe(old, now);
    const holder = old.holderIdentity ?? '';
    const duration = (old.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && this.#observedAt + duration > now) return false;
    if (holder === identity) {
      spec.acquireTime = old.acquireTime;
      spec.leaseTransitions = old.leaseTransitions ?? 0;
    } else spec.leaseTransitions = (old.leaseTransitions ?? 0) + 1;
    try {
      await client.update<Lease>(resources.leases, { ...current, spec: { ...old, ...spec } });
      this.#observe(spec, now);
      return true;
    } catch (err) {
      return err instanceof ConflictError ? false : this.#failed(err);
    }
  }

  /** Records when the lease's content last changed, on our own clock. */
  #observe(spec: LeaseSpec, now: number): void {
    const seen = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (seen !== this.#observed) {
      this.#observed = seen;
      this.#observedAt = now;
    }
    const holder = spec.holderIdentity ?? '';
    if (holder !== this.#leader) {
      this.#leader = holder;
      if (holder) this.#o.onNewLeader?.(holder);
    }
  }

  #failed(err: unknown): false {
    this.#o.log?.warn(
      { lease: this.#o.lease.name, err: describeError(err) },
      'leader election request failed',
    );
    return false;
  }

  async #release(): Promise<void> {
    const { client, lease, identity } = this.#o;
    try {
      const cur = await client.get<Lease>(resources.leases, lease.name, { namespace: lease.namespace });
      if (cur.spec?.holderIdentity !== identity) return;
      const now = microTime(this.#clock.now());
      await client.update<Lease>(resources.leases, {
        ...cur,
        spec: { ...cur.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
      });
    } catch (err) {
      this.#failed(err);
    }
  }
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}
