/**
 * The container state machine: create, start, stop, kill, pause, remove,
 * exits and restart policies, recovery after a daemon restart. It composes
 * the image store (rootfs), the network manager (sandbox), volumes and the
 * OCI runtime (conmon + crun), and publishes every change on the event bus.
 *
 * This file is long because it is the one place where a container's
 * lifecycle is decided; the pieces it uses (spec translation, config merge,
 * inspect views, logs, archives) live in their own files.
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConflictError, describeError, InvalidError, NotFoundError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { randomId, randomName } from '../../lib/random-name.ts';
import type { EventBus } from '../events.ts';
import type { ImageStore } from '../images/image-store.ts';
import type { NetworkManager, SandboxMode } from '../network/manager.ts';
import type { CgroupLayout } from '../oci/cgroups.ts';
import { containerCgroupsPath, removeCgroup } from '../oci/cgroups.ts';
import type { HostInfo } from '../oci/host.ts';
import type { Runtime } from '../oci/runtime.ts';
import { StartError } from '../oci/runtime-error.ts';
import { buildSpec, type NamespaceMode } from '../oci/spec.ts';
import { resolveUser } from '../oci/user.ts';
import type { ContainerCreateRequest, EndpointSettings } from '../types.ts';
import type { VolumeStore } from '../volumes/volumes.ts';
import { specOptions } from './container-spec.ts';
import {
  commandLine,
  mergeConfig,
  type PlannedMount,
  planMounts,
  validateHostConfig,
} from './create-config.ts';
import { renderResolvConf } from './etc-files.ts';
import { containerPaths } from './inspect.ts';
import { logLimits, rotateIfNeeded } from './log-rotation.ts';
import { copyUpIfEmpty, tmpfsOptions } from './mounts.ts';
import { type ContainerRecord, ContainerRecords, zeroTime } from './record.ts';
import { nextDelay, shouldRestart, shouldStartOnBoot, validateRestartPolicy } from './restart-policy.ts';
import { normalizeSignal, signalNumber } from './signals.ts';

export interface ContainerManagerOptions {
  /** `<data-dir>/containers`. */
  root: string;
  runtime: Runtime;
  images: ImageStore;
  networks: NetworkManager;
  volumes: VolumeStore;
  events: EventBus;
  cgroups: CgroupLayout;
  host: HostInfo;
  log: Logger;
  /** Host path of the init for --init (catatonit); undefined disables --init. */
  initBinary?: string;
  /** conmon truncates a container log past this size. */
  logMaxSize?: number;
}

type WaitCondition = 'not-running' | 'next-exit' | 'removed';
interface Waiter {
  condition: WaitCondition;
  resolve: (code: number) => void;
}

const builtinNetworkModes = new Set(['none', 'host', 'bridge', 'default']);

export class ContainerManager {
  readonly records: ContainerRecords;
  readonly #o: ContainerManagerOptions;
  readonly #log: Logger;
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Containers with an exit being processed or a restart pending, so no two paths race. */
  readonly #busy = new Map<string, Promise<void>>();
  readonly #restartTimers = new Map<string, NodeJS.Timeout>();
  readonly #restartDelay = new Map<string, number>();
  readonly #exitWatches = new Map<string, AbortController>();
  readonly #starting = new Map<string, Promise<void>>();
  readonly #runListeners = new Map<string, Set<() => void>>();
  #closing = false;
  #rotation: NodeJS.Timeout | undefined;

  constructor(o: ContainerManagerOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'containers' });
    this.records = new ContainerRecords(o.root);
  }

  dir(rec: ContainerRecord): string {
    return this.records.dir(rec.id);
  }

  /**
   * Loads the records and reconciles them with what really runs: containers
   * that kept running under conmon are re-adopted, those that exited while
   * the daemon was down get their exit processed, restart policies apply.
   */
  async init(): Promise<void> {
    const records = await this.records.load();
    await this.#removeLeftovers(records);
    for (const rec of records) {
      if (!['running', 'paused', 'restarting'].includes(rec.state.status)) continue;
      const exit = await this.#o.runtime.exitInfo(rec.id).catch(() => undefined);
      const state = exit ? undefined : await this.#o.runtime.state(rec.id).catch(() => undefined);
      if (state && (state.status === 'running' || state.status === 'paused')) {
        rec.state.status = state.status;
        this.#watchExit(rec);
        this.#log.info({ id: rec.id, name: rec.name }, 'container re-adopted');
        continue;
      }
      await this.#handleExit(rec, exit?.exitCode ?? 255, exit?.oomKilled ?? false, { boot: true });
    }
    for (const rec of this.records.all()) {
      if (rec.state.status !== 'exited' && rec.state.status !== 'created') continue;
      if (
        shouldStartOnBoot(rec.hostConfig.RestartPolicy, rec.stoppedByUser) &&
        rec.state.startedAt !== zeroTime
      ) {
        this.start(rec.id).catch((err: unknown) =>
          this.#log.warn({ id: rec.id, err: describeError(err) }, 'restart at boot failed'),
        );
      }
    }
  }

  /** Rotates the logs of running containers past their max-size (checked every few seconds). */
  startLogRotation(intervalMs = 1000): void {
    this.#rotation = setInterval(() => {
      for (const rec of this.records.all()) {
        if (rec.state.status !== 'running' && rec.state.status !== 'paused') continue;
        const log = containerPaths(this.dir(rec)).log;
        rotateIfNeeded(log, logLimits(rec.hostConfig.LogConfig), () =>
          this.#o.runtime.reopenLog(rec.id),
        ).catch((err: unknown) =>
          this.#log.warn({ id: rec.id, err: describeError(err) }, 'rotating the log failed'),
        );
      }
    }, intervalMs);
    this.#rotation.unref();
  }

  /** Stops watching; containers keep running under conmon. */
  close(): void {
    this.#closing = true;
    clearInterval(this.#rotation);
    for (const t of this.#restartTimers.values()) clearTimeout(t);
    for (const ac of this.#exitWatches.values()) ac.abort();
  }

  async #removeLeftovers(records: ContainerRecord[]): Promise<void> {
    const known = new Set(records.map((r) => r.id));
    const entries = await readdir(this.#o.root).catch(() => [] as string[]);
    for (const name of entries) {
      if (known.has(name)) continue;
      // A create that crashed half way, or a removal moved aside: nothing references it.
      const dir = join(this.#o.root, name);
      await this.#o.images.releaseRootfs(dir, { remove: true }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- create

  async create(req: ContainerCreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    const hostConfig = { ...(req.hostConfig ?? {}) };
    const imageRef = req.config.Image ?? '';
    if (!imageRef) throw new InvalidError('No image specified (config.Image is empty)');
    validateHostConfig(hostConfig);
    logLimits(hostConfig.LogConfig);
    const policyError = validateRestartPolicy(hostConfig.RestartPolicy);
    if (policyError) throw new InvalidError(policyError);
    const image = this.#resolveImage(imageRef);
    const imageConfig = (await this.#o.images.config(image.id)).config ?? {};
    const id = randomId();
    const name = req.name ? req.name.replace(/^\//, '') : this.#freshName();
    const networks = this.#plannedNetworks(hostConfig.NetworkMode, req.networkingConfig?.EndpointsConfig);
    const config = mergeConfig(req.config, imageConfig, id);
    const { path, args } = commandLine(config);
    const mounts = planMounts(config, hostConfig);
    this.records.claimName(name, id);
    const dir = this.records.dir(id);
    try {
      await mkdir(dir, { mode: 0o700 });
      const p = containerPaths(dir);
      // conmon appends to the log; creating it now lets an attach opened before
      // start hold the file, so output survives an --rm removal.
      await writeFile(p.log, '', { mode: 0o600 });
      for (const m of mounts) await this.#prepareVolume(m);
      const rec: ContainerRecord = {
        id,
        name,
        created: new Date().toISOString(),
        imageRef,
        imageId: image.id,
        config: { ...config, Image: imageRef },
        hostConfig: { ...hostConfig, NetworkMode: hostConfig.NetworkMode || 'default' },
        networks,
        mounts: mounts.map(({ options: _o, ...m }) => m),
        path,
        args,
        state: {
          status: 'created',
          pid: 0,
          exitCode: 0,
          error: '',
          startedAt: zeroTime,
          finishedAt: zeroTime,
          oomKilled: false,
        },
        restartCount: 0,
        stoppedByUser: false,
        execIds: [],
      };
      await this.records.save(rec);
      this.#event(rec, 'create');
      return { Id: id, Warnings: [] };
    } catch (err) {
      this.records.releaseName(name, id);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  #resolveImage(ref: string) {
    try {
      return this.#o.images.resolve(ref);
    } catch (err) {
      if (err instanceof NotFoundError) {
        const shown = ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`;
        throw new NotFoundError(`No such image: ${shown}`, { cause: err });
      }
      throw err;
    }
  }

  #freshName(): string {
    for (let i = 0; i < 100; i++) {
      const n = randomName();
      if (!this.records.isNameTaken(n)) return n;
    }
    return `${randomName()}_${randomId().slice(0, 6)}`;
  }

  #plannedNetworks(
    mode: string | undefined,
    endpoints: Record<string, EndpointSettings> | undefined,
  ): Record<string, EndpointSettings> {
    const m = !mode || mode === 'default' ? 'bridge' : mode;
    if (m.startsWith('container:')) {
      this.records.get(m.slice('container:'.length));
      return {};
    }
    // "ns:<path>": join a network namespace someone else made and owns (the
    // node agent's pod sandbox, configured through CNI); no endpoints here.
    if (m.startsWith('ns:')) return {};
    const out: Record<string, EndpointSettings> = {};
    out[m] = { ...(endpoints?.[m] ?? {}) };
    for (const [name, ep] of Object.entries(endpoints ?? {})) {
      if (name !== m && !builtinNetworkModes.has(name)) out[name] = { ...ep };
    }
    return out;
  }

  async #prepareVolume(m: PlannedMount): Promise<void> {
    if (m.Type !== 'volume') return;
    const anonymous = !m.Name;
    const v = await this.#o.volumes.create({ Name: m.Name || undefined }, anonymous);
    m.Name = v.Name;
    m.Source = v.Mountpoint;
    this.#o.events.publish('volume', 'create', v.Name, { driver: 'local' });
  }

  // ---------------------------------------------------------------- start

  async start(ref: string): Promise<void> {
    const rec = this.records.get(ref);
    await this.#busy.get(rec.id);
    if (rec.state.status === 'running') return;
    if (rec.state.status === 'paused')
      throw new ConflictError(`cannot start a paused container, try unpause instead`);
    if (rec.state.status === 'removing')
      throw new ConflictError(`container ${rec.id} is marked for removal and cannot be started`);
    clearTimeout(this.#restartTimers.get(rec.id));
    this.#restartTimers.delete(rec.id);
    rec.stoppedByUser = false;
    await this.#run(rec);
  }

  /**
   * Starts the container. An exit can be noticed before this returns (a fast
   * `true`); its processing waits for the start to finish (#starting), so the
   * start's own bookkeeping never races the exit's.
   */
  #run(rec: ContainerRecord): Promise<void> {
    const run = this.#runOnce(rec);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#starting.set(rec.id, settled);
    settled.then(() => {
      if (this.#starting.get(rec.id) === settled) this.#starting.delete(rec.id);
    });
    return run;
  }

  async #runOnce(rec: ContainerRecord): Promise<void> {
    const dir = this.dir(rec);
    const p = containerPaths(dir);
    const o = this.#o;
    let sandboxCreated = false;
    try {
      // The root filesystem and the network sandbox are independent: made side by side.
      // Throw-away containers skip the sync on unmount (their changes are deleted anyway).
      const fs = o.images
        .prepareRootfs(rec.imageId, dir, { volatile: rec.hostConfig.AutoRemove ?? false })
        .then(async (rootfs) => ({ rootfs, user: await resolveUser(rootfs, rec.config.User) }));
      const net = this.#setUpNetwork(rec, p).then((n) => {
        sandboxCreated = true;
        return n;
      });
      // Both settle before a failure is handled, so the cleanup below knows about the sandbox.
      const [fsDone, netDone] = await Promise.allSettled([fs, net]);
      if (fsDone.status === 'rejected') throw fsDone.reason;
      if (netDone.status === 'rejected') throw netDone.reason;
      const { rootfs, user } = fsDone.value;
      const network = netDone.value;
      const mounts = rec.mounts.map((m) => ({ ...m, options: tmpfsOptions(rec, m.Destination) }));
      await Promise.all(mounts.filter((m) => m.Type === 'volume').map((m) => copyUpIfEmpty(rootfs, m)));
      const spec = buildSpec(
        specOptions({
          rec,
          rootfs,
          user,
          network: network.namespace,
          etc: network.etc,
          mounts,
          initBinary: o.initBinary,
          host: o.host,
        }),
      );
      await mkdir(p.bundle, { recursive: true });
      await writeFile(join(p.bundle, 'config.json'), JSON.stringify(spec));
      const createOpts = {
        id: rec.id,
        bundleDir: p.bundle,
        logPath: p.log,
        logMaxSize: o.logMaxSize,
        terminal: rec.config.Tty ?? false,
        stdin: rec.config.OpenStdin ?? false,
        stdinOnce: rec.config.StdinOnce ?? false,
      };
      // Runtime state left under this id (a crash between create and our record's save)
      // is removed only when the runtime reports it: no delete on the common path.
      const { pid } = await o.runtime.create(createOpts).catch(async (err: unknown) => {
        if (!(err instanceof ConflictError)) throw err;
        await o.runtime.delete(rec.id, { force: true });
        return o.runtime.create(createOpts);
      });
      // A namespace the runtime made is reached through the init (for --network container:<this>).
      if (network.namespace === 'new' && rec.sandbox) rec.sandbox.netnsPath = `/proc/${pid}/ns/net`;
      await o.runtime.start(rec.id);
      rec.state = {
        ...rec.state,
        status: 'running',
        pid,
        exitCode: 0,
        error: '',
        oomKilled: false,
        startedAt: new Date().toISOString(),
      };
      this.#watchExit(rec);
      await this.records.save(rec);
      this.#event(rec, 'start');
      for (const cb of this.#runListeners.get(rec.id) ?? []) cb();
    } catch (caught) {
      const err = caught instanceof StartError ? dockerStartError(caught, rec.path) : caught;
      rec.state.error = describeError(err);
      if (err instanceof StartError) rec.state.exitCode = err.exitCode;
      else rec.state.exitCode = 128;
      rec.state.status = rec.state.startedAt === zeroTime ? 'created' : 'exited';
      if (sandboxCreated) await o.networks.releaseSandbox(rec.id).catch(() => undefined);
      rec.sandbox = undefined;
      await o.runtime.delete(rec.id, { force: true }).catch(() => undefined);
      await removeCgroup(o.cgroups, containerCgroupsPath(rec.id)).catch(() => undefined);
      await this.records.save(rec).catch(() => undefined);
      this.#notify(rec, 'not-running', rec.state.exitCode);
      // Attached clients end their stream; an --rm container goes, as Docker's does.
      for (const cb of this.#runListeners.get(rec.id) ?? []) cb();
      if (rec.hostConfig.AutoRemove) await this.#destroy(rec, { volumes: true }).catch(() => undefined);
      throw err;
    }
  }

  async #setUpNetwork(
    rec: ContainerRecord,
    p: ReturnType<typeof containerPaths>,
  ): Promise<{ namespace: NamespaceMode; etc: { hosts: string; hostname: string; resolvConf: string } }> {
    const o = this.#o;
    const mode = rec.hostConfig.NetworkMode ?? 'default';
    let etc = { hosts: p.hosts, hostname: p.hostname, resolvConf: p.resolvConf };
    let sandboxMode: SandboxMode;
    if (mode.startsWith('container:')) {
      const target = this.records.get(mode.slice('container:'.length));
      if (target.state.status !== 'running' || !target.sandbox?.netnsPath) {
        throw new ConflictError(`cannot join network of a non running container: ${target.id}`);
      }
      sandboxMode = { type: 'container', netnsPath: target.sandbox.netnsPath };
      const tp = containerPaths(this.dir(target));
      etc = { hosts: tp.hosts, hostname: tp.hostname, resolvConf: tp.resolvConf };
    } else if (mode.startsWith('ns:')) {
      sandboxMode = { type: 'container', netnsPath: mode.slice('ns:'.length) };
    } else {
      sandboxMode = mode === 'host' ? { type: 'host' } : { type: 'private' };
    }
    const attach = Object.entries(rec.networks)
      .filter(([name]) => name !== 'none' && name !== 'host')
      .map(([name, ep]) => ({
        network: name === 'default' ? 'bridge' : name,
        opts: {
          name: rec.name,
          aliases:
            name === 'bridge' || name === 'default' ? [] : [...(ep.Aliases ?? []), rec.id.slice(0, 12)],
          ipv4Address: ep.IPAMConfig?.IPv4Address || undefined,
          macAddress: ep.MacAddress || undefined,
        },
      }));
    const ownFiles = !mode.startsWith('container:');
    // --network none: crun makes the namespace and brings lo up itself (runc does not); no `ip` process runs.
    const runtimeNetns =
      sandboxMode.type === 'private' && attach.length === 0 && basename(o.runtime.runtimePath) === 'crun';
    const [sandbox] = await Promise.all([
      o.networks.createSandbox(rec.id, {
        mode: sandboxMode,
        hostname: rec.config.Hostname,
        hostsPath: ownFiles ? p.hosts : undefined,
        extraHosts: rec.hostConfig.ExtraHosts ?? [],
        networks: sandboxMode.type === 'private' ? attach : [],
        runtimeNetns,
      }),
      ownFiles
        ? Promise.all([
            writeFile(p.hostname, `${rec.config.Hostname}\n`),
            renderResolvConf({
              dns: rec.hostConfig.Dns,
              search: rec.hostConfig.DnsSearch,
              options: rec.hostConfig.DnsOptions,
              hostNetwork: mode === 'host',
            }).then((text) => writeFile(p.resolvConf, text)),
          ])
        : undefined,
    ]);
    let ports = {};
    if (sandboxMode.type === 'private' && attach.length > 0) {
      const hc = rec.hostConfig;
      if (Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts) {
        ports = await o.networks.publishPorts(rec.id, {
          portBindings: hc.PortBindings ?? {},
          exposedPorts: rec.config.ExposedPorts,
          publishAll: hc.PublishAllPorts ?? false,
        });
      }
    }
    for (const [name, ep] of Object.entries(sandbox.endpoints)) {
      const key =
        name in rec.networks ? name : name === 'bridge' && 'default' in rec.networks ? 'default' : name;
      rec.networks[key] = { ...rec.networks[key], ...ep };
    }
    rec.sandbox = { netnsPath: sandbox.netnsPath ?? '', ports };
    const namespace = sandbox.netnsPath ? { path: sandbox.netnsPath } : runtimeNetns ? 'new' : 'host';
    return { namespace, etc };
  }

  // ---------------------------------------------------------------- exits

  #watchExit(rec: ContainerRecord): void {
    this.#exitWatches.get(rec.id)?.abort();
    const ac = new AbortController();
    this.#exitWatches.set(rec.id, ac);
    this.#o.runtime.waitExit(rec.id, ac.signal).then(
      async (code) => {
        if (this.#exitWatches.get(rec.id) === ac) this.#exitWatches.delete(rec.id);
        const info = await this.#o.runtime.exitInfo(rec.id).catch(() => undefined);
        await this.#handleExit(rec, code, info?.oomKilled ?? false, { boot: false });
      },
      () => undefined,
    );
  }

  #handleExit(rec: ContainerRecord, code: number, oomKilled: boolean, o: { boot: boolean }): Promise<void> {
    const work = (async () => {
      await this.#starting.get(rec.id);
      const m = this.#o;
      const ranForMs = Date.now() - Date.parse(rec.state.startedAt);
      rec.state = {
        ...rec.state,
        status: 'exited',
        pid: 0,
        exitCode: code,
        oomKilled,
        finishedAt: new Date().toISOString(),
      };
      const dir = this.dir(rec);
      await Promise.all([
        m.runtime.delete(rec.id, { force: true }).catch(() => undefined),
        m.networks
          .releaseSandbox(rec.id)
          .catch((err: unknown) =>
            this.#log.warn({ id: rec.id, err: describeError(err) }, 'releasing network sandbox failed'),
          ),
      ]);
      rec.sandbox = undefined;
      await removeCgroup(m.cgroups, containerCgroupsPath(rec.id)).catch(() => undefined);
      if (oomKilled) this.#event(rec, 'oom');
      this.#event(rec, 'die', { exitCode: String(code) });
      const autoRemove = rec.hostConfig.AutoRemove ?? false;
      const restart =
        !this.#closing &&
        shouldRestart(rec.hostConfig.RestartPolicy, {
          exitCode: code,
          stoppedByUser: rec.stoppedByUser,
          restartCount: rec.restartCount,
          autoRemove,
        });
      if (autoRemove && !o.boot) {
        this.#notify(rec, 'not-running', code);
        await this.#destroy(rec, { volumes: true });
        return;
      }
      if (restart) {
        rec.state.status = 'restarting';
        const delay = nextDelay(this.#restartDelay.get(rec.id) ?? 0, ranForMs);
        this.#restartDelay.set(rec.id, delay);
        this.#scheduleRestart(rec, delay);
      } else {
        await m.images.releaseRootfs(dir).catch(() => undefined);
      }
      await this.records.save(rec);
      this.#notify(rec, 'not-running', code);
    })();
    const guarded = work.catch((err: unknown) =>
      this.#log.error({ id: rec.id, err: describeError(err) }, 'processing container exit failed'),
    );
    this.#busy.set(rec.id, guarded);
    return guarded.finally(() => {
      if (this.#busy.get(rec.id) === guarded) this.#busy.delete(rec.id);
    });
  }

  #scheduleRestart(rec: ContainerRecord, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#restartTimers.delete(rec.id);
      if (rec.state.status !== 'restarting' || rec.stoppedByUser) return;
      rec.restartCount++;
      this.#run(rec).catch((err: unknown) => {
        this.#log.warn({ id: rec.id, err: describeError(err) }, 'restart failed');
        rec.state.status = 'restarting';
        this.#scheduleRestart(rec, Math.min(delayMs * 2, 60_000));
      });
    }, delayMs);
    this.#restartTimers.set(rec.id, timer);
  }

  // ---------------------------------------------------------------- stop, kill, pause

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.records.get(ref);
    this.#cancelRestart(rec);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      rec.stoppedByUser = true;
      await this.#busy.get(rec.id);
      await this.records.save(rec).catch(() => undefined);
      return;
    }
    rec.stoppedByUser = true;
    const timeout = opts.timeout ?? rec.config.StopTimeout ?? 10;
    const exited = this.#nextExit(rec);
    if (rec.state.status === 'paused') await this.#o.runtime.resume(rec.id).catch(() => undefined);
    const signal = opts.signal || rec.config.StopSignal || 'SIGTERM';
    await this.#o.runtime.kill(rec.id, signal).catch(() => undefined);
    this.#event(rec, 'kill', { signal: signalNumber(signal) });
    const inTime = timeout < 0 ? await exited.then(() => true) : await raceTimeout(exited, timeout * 1000);
    if (!inTime) {
      await this.#o.runtime.kill(rec.id, 'SIGKILL', { all: true }).catch(() => undefined);
      this.#event(rec, 'kill', { signal: '9' });
      await exited;
    }
    await this.#busy.get(rec.id);
    this.#event(rec, 'stop');
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.records.get(ref);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new ConflictError(`Cannot kill container: ${ref}: Container ${rec.id} is not running`);
    }
    const sig = normalizeSignal(signal);
    if (sig === 'SIGKILL' || sig === 'SIGTERM') rec.stoppedByUser = true;
    await this.#o.runtime.kill(rec.id, sig);
    this.#event(rec, 'kill', { signal: signalNumber(sig) });
  }

  async restart(ref: string, opts: { timeout?: number } = {}): Promise<void> {
    await this.stop(ref, opts);
    await this.start(ref);
    this.#event(this.records.get(ref), 'restart');
  }

  async pause(ref: string): Promise<void> {
    const rec = this.records.get(ref);
    if (rec.state.status === 'paused') throw new ConflictError(`Container ${rec.id} is already paused`);
    if (rec.state.status !== 'running') throw new ConflictError(`Container ${rec.id} is not running`);
    await this.#o.runtime.pause(rec.id);
    rec.state.status = 'paused';
    await this.records.save(rec);
    this.#event(rec, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.records.get(ref);
    if (rec.state.status !== 'paused') throw new ConflictError(`Container ${rec.id} is not paused`);
    await this.#o.runtime.resume(rec.id);
    rec.state.status = 'running';
    await this.records.save(rec);
    this.#event(rec, 'unpause');
  }

  #cancelRestart(rec: ContainerRecord): void {
    const t = this.#restartTimers.get(rec.id);
    if (t) {
      clearTimeout(t);
      this.#restartTimers.delete(rec.id);
      rec.state.status = 'exited';
    }
  }

  // ---------------------------------------------------------------- remove, rename

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.records.get(ref);
    this.#cancelRestart(rec);
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      if (!opts.force) {
        throw new ConflictError(
          `You cannot remove a running container ${rec.id}. Stop the container before attempting removal or force remove`,
        );
      }
      rec.stoppedByUser = true;
      const exited = this.#nextExit(rec);
      if (rec.state.status === 'paused') await this.#o.runtime.resume(rec.id).catch(() => undefined);
      await this.#o.runtime.kill(rec.id, 'SIGKILL', { all: true }).catch(() => undefined);
      await raceTimeout(exited, 10_000);
    }
    await this.#busy.get(rec.id);
    if (!this.records.find(rec.id)) return; // auto-removed while we waited
    await this.#destroy(rec, { volumes: opts.volumes ?? false });
  }

  async #destroy(rec: ContainerRecord, opts: { volumes: boolean }): Promise<void> {
    const o = this.#o;
    rec.state.status = 'removing';
    const dir = this.dir(rec);
    await o.runtime.delete(rec.id, { force: true }).catch(() => undefined);
    await o.networks.releaseSandbox(rec.id).catch(() => undefined);
    await o.images.releaseRootfs(dir, { remove: false }).catch(() => undefined);
    // Move the directory aside first: the removal is acknowledged at once and
    // the files (the writable layer can be large) go in the background.
    const trash = join(o.root, `.removing-${rec.id}`);
    await rename(dir, trash).catch(() => undefined);
    await this.records.remove(rec);
    rm(trash, { recursive: true, force: true }).catch(() => undefined);
    if (opts.volumes) {
      for (const m of rec.mounts) {
        if (m.Type !== 'volume' || !m.Name) continue;
        if (!(await o.volumes.isAnonymous(m.Name).catch(() => false))) continue;
        await o.volumes.remove(m.Name).catch(() => undefined);
        o.events.publish('volume', 'destroy', m.Name, { driver: 'local' });
      }
    }
    this.#event(rec, 'destroy');
    this.#notify(rec, 'removed', rec.state.exitCode);
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.records.get(ref);
    const name = newName.replace(/^\//, '');
    if (!name) throw new InvalidError('Neither old nor new names may be empty');
    if (name === rec.name)
      throw new InvalidError(`Renaming a container with the same name as its current name`);
    const old = rec.name;
    this.records.claimName(name, rec.id);
    rec.name = name;
    this.records.releaseName(old, rec.id);
    await this.records.save(rec);
    this.#event(rec, 'rename', { oldName: `/${old}` });
  }

  // ---------------------------------------------------------------- waiting

  /** Resolves with the exit code once `condition` holds for the container. */
  wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<number> {
    const rec = this.records.get(ref);
    const running = ['running', 'paused', 'restarting'].includes(rec.state.status);
    if (condition === 'not-running' && !running && !this.#busy.has(rec.id)) {
      return Promise.resolve(rec.state.exitCode);
    }
    return new Promise<number>((resolve, reject) => {
      const set = this.#waiters.get(rec.id) ?? new Set<Waiter>();
      this.#waiters.set(rec.id, set);
      const waiter: Waiter = {
        condition,
        resolve: (code) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(code);
        },
      };
      const onAbort = () => {
        set.delete(waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
    });
  }

  /** Subscribes to the container's next start, or failed start (attach before start waits on it). */
  onStart(id: string, cb: () => void): () => void {
    const set = this.#runListeners.get(id) ?? new Set<() => void>();
    this.#runListeners.set(id, set);
    set.add(cb);
    return () => set.delete(cb);
  }

  #nextExit(rec: ContainerRecord): Promise<number> {
    return this.wait(rec.id, 'next-exit');
  }

  #notify(rec: ContainerRecord, what: 'not-running' | 'removed', code: number): void {
    const set = this.#waiters.get(rec.id);
    if (!set) return;
    for (const w of [...set]) {
      const fire = what === 'removed' || w.condition !== 'removed';
      if (!fire) continue;
      set.delete(w);
      w.resolve(code);
    }
    if (set.size === 0) this.#waiters.delete(rec.id);
  }

  #event(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.#o.events.publish('container', action, rec.id, {
      ...(rec.config.Labels ?? {}),
      image: rec.imageRef,
      name: rec.name,
      ...extra,
    });
  }
}

/**
 * Docker's wording for a process that cannot start: the docker CLI picks its
 * exit code (127 or 126) by matching this text, so it must say
 * "executable file not found" or "permission denied".
 */
function dockerStartError(err: StartError, path: string): StartError {
  const why =
    err.reason === 'not-found'
      ? `exec: "${path}": executable file not found in $PATH`
      : `exec: "${path}": permission denied`;
  return new StartError(
    `failed to create task for container: OCI runtime create failed: unable to start container process: ${why}: unknown`,
    err.reason,
    { cause: err },
  );
}

function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve(true);
      },
      () => {
        clearTimeout(t);
        resolve(true);
      },
    );
  });
}
