/**
 * buildSpec: container settings → OCI config.json, Docker's defaults included
 * (capabilities, masked and read-only paths, /dev and /sys mounts, device
 * cgroup rules, NOFILE rlimit, a seccomp profile). Pure: everything read from
 * the host (limits, bounding set, rootfs users) comes in through the options.
 */
import { InvalidError } from '../../lib/errors.ts';
import { computeCapabilities } from './capabilities.ts';
import { clampRlimits, type HostInfo } from './host.ts';
import type {
  OciDevice,
  OciDeviceRule,
  OciMount,
  OciNamespace,
  OciNamespaceType,
  OciResources,
  OciRlimit,
  OciSeccomp,
  OciSpec,
} from './oci-spec.ts';
import { defaultSeccompProfile } from './seccomp.ts';

/** `new`: a fresh namespace; `host`: share the daemon's; `{ path }`: join an existing one (e.g. /run/netns/x, /proc/PID/ns/net). */
export type NamespaceMode = 'new' | 'host' | { path: string };

export interface MountSpec {
  type: 'bind' | 'tmpfs' | (string & {});
  /** Host path for bind mounts; ignored for tmpfs. */
  source?: string;
  destination: string;
  readonly?: boolean;
  /** Extra mount options (`size=64m`, `mode=1777`, `rprivate`, `noexec` ...). */
  options?: string[];
}

export interface ResourceOptions {
  /** Bytes; 0 or undefined means unlimited. */
  memory?: number;
  /** Memory + swap in bytes (Docker semantics); -1 unlimited; default 2 x memory when swap is accounted. */
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  /** Docker's NanoCpus (`--cpus 1.5` = 1.5e9): becomes quota over a 100 ms period. */
  nanoCpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Maximum number of tasks; 0/undefined/-1 unlimited. */
  pidsLimit?: number;
  blkioWeight?: number;
}

export interface SpecOptions {
  /** Absolute path of the root filesystem (e.g. an overlay `merged` dir). */
  rootfs: string;
  readonlyRootfs?: boolean;
  args: string[];
  env?: string[];
  /** Default "/". */
  cwd?: string;
  terminal?: boolean;
  user?: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  /** HOME when env sets none (resolveUser's `home`; Docker's default "/"). */
  home?: string;
  hostname?: string;
  namespaces?: Partial<Record<OciNamespaceType, NamespaceMode>>;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  noNewPrivileges?: boolean;
  mounts?: MountSpec[];
  /** Size of /dev/shm in bytes (Docker's default 64 MiB). */
  shmSize?: number;
  /** Requested rlimits (`nofile`, `RLIMIT_NOFILE`...); clamped to the daemon's hard limits. */
  rlimits?: OciRlimit[];
  resources?: ResourceOptions;
  sysctls?: Record<string, string>;
  /** `default` (see seccomp.ts), `unconfined` (none), or a full profile. Default: `default`. */
  seccomp?: 'default' | 'unconfined' | OciSeccomp;
  oomScoreAdj?: number;
  /** `linux.cgroupsPath`, e.g. containerCgroupsPath(id). */
  cgroupsPath?: string;
  /** Extra device nodes (e.g. --device, or all host devices for privileged containers). */
  devices?: OciDevice[];
  annotations?: Record<string, string>;
  /** The daemon's own limits (readHostInfo()). */
  host: HostInfo;
}

export const defaultMaskedPaths: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const defaultReadonlyPaths: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

const defaultEnvPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const defaultShmSize = 64 * 1024 * 1024;
const namespaceOrder: OciNamespaceType[] = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'user'];
const defaultNamespaces: Partial<Record<OciNamespaceType, NamespaceMode>> = {
  pid: 'new',
  network: 'new',
  ipc: 'new',
  uts: 'new',
  mount: 'new',
};

/** Docker's default device cgroup rules: deny all, then mknod anything and use the basic nodes. */
const defaultDeviceRules: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

function buildNamespaces(opts: SpecOptions): OciNamespace[] {
  const modes = { ...defaultNamespaces, ...opts.namespaces };
  const out: OciNamespace[] = [];
  for (const type of namespaceOrder) {
    const mode = modes[type];
    if (mode === undefined || mode === 'host') continue;
    if (mode === 'new') out.push({ type });
    else if (typeof mode === 'object' && mode.path.startsWith('/')) out.push({ type, path: mode.path });
    else
      throw new InvalidError(`building container spec: invalid ${type} namespace: ${JSON.stringify(mode)}`);
  }
  return out;
}

function buildMounts(opts: SpecOptions): OciMount[] {
  const ro = opts.privileged ? [] : ['ro'];
  const shm = opts.shmSize && opts.shmSize > 0 ? opts.shmSize : defaultShmSize;
  const netHost = opts.namespaces?.network === 'host';
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    // sysfs cannot be mounted fresh without a network namespace of our own: bind the host's then.
    netHost
      ? {
          destination: '/sys',
          type: 'bind',
          source: '/sys',
          options: ['rbind', 'nosuid', 'noexec', 'nodev', ...ro],
        }
      : {
          destination: '/sys',
          type: 'sysfs',
          source: 'sysfs',
          options: ['nosuid', 'noexec', 'nodev', ...ro],
        },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`],
    },
  ];
  for (const m of opts.mounts ?? []) {
    if (!m.destination.startsWith('/')) {
      throw new InvalidError(
        `building container spec: mount destination must be absolute: "${m.destination}"`,
      );
    }
    const options = [...(m.options ?? [])];
    if (m.readonly && !options.includes('ro')) options.push('ro');
    if (m.type === 'bind') {
      if (!m.source)
        throw new InvalidError(`building container spec: bind mount of ${m.destination} needs a source`);
      if (!options.includes('bind') && !options.includes('rbind')) options.unshift('rbind');
      // Replace a default mount at the same place (e.g. a bind over /dev/shm).
      const i = mounts.findIndex((x) => x.destination === m.destination);
      if (i >= 0) mounts.splice(i, 1);
      mounts.push({ destination: m.destination, type: 'bind', source: m.source, options });
    } else if (m.type === 'tmpfs') {
      if (!options.some((o) => o.startsWith('mode='))) options.push('mode=1777');
      for (const o of ['nosuid', 'nodev']) if (!options.includes(o)) options.unshift(o);
      const i = mounts.findIndex((x) => x.destination === m.destination);
      if (i >= 0) mounts.splice(i, 1);
      mounts.push({ destination: m.destination, type: 'tmpfs', source: 'tmpfs', options });
    } else {
      mounts.push({ destination: m.destination, type: m.type, source: m.source ?? m.type, options });
    }
  }
  return mounts;
}

function buildResources(opts: SpecOptions): OciResources {
  const r = opts.resources ?? {};
  const out: OciResources = {
    devices: opts.privileged ? [{ allow: true, access: 'rwm' }] : structuredClone(defaultDeviceRules),
  };
  const memory: NonNullable<OciResources['memory']> = {};
  if (r.memory && r.memory > 0) {
    memory.limit = r.memory;
    if (opts.host.swapLimit) {
      if (r.memorySwap === -1) memory.swap = -1;
      else if (r.memorySwap && r.memorySwap > 0) {
        if (r.memorySwap < r.memory) {
          throw new InvalidError('building container spec: memory-swap must be at least the memory limit');
        }
        memory.swap = r.memorySwap;
      } else memory.swap = 2 * r.memory;
    }
  }
  if (r.memoryReservation && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) memory.swappiness = r.memorySwappiness;
  if (r.oomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.cpuShares && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.nanoCpus && r.nanoCpus > 0) {
    if (r.cpuQuota)
      throw new InvalidError('building container spec: cpus and cpu-quota are mutually exclusive');
    cpu.period = 100000;
    cpu.quota = Math.max(1000, Math.round((r.nanoCpus * cpu.period) / 1e9));
  } else {
    if (r.cpuPeriod && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
    if (r.cpuQuota && r.cpuQuota > 0) cpu.quota = r.cpuQuota;
  }
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight && r.blkioWeight > 0) out.blockIO = { weight: r.blkioWeight };
  return out;
}

function buildEnv(opts: SpecOptions): string[] {
  const env = [...(opts.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(defaultEnvPath);
  if (opts.hostname && !env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${opts.hostname}`);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${opts.home || '/'}`);
  if (opts.terminal && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  return env;
}

/** Builds the OCI runtime config for one container. Throws InvalidError for contradictory options. */
export function buildSpec(opts: SpecOptions): OciSpec {
  if (opts.args.length === 0) throw new InvalidError('building container spec: no command given');
  if (!opts.rootfs.startsWith('/'))
    throw new InvalidError('building container spec: rootfs must be absolute');
  const caps = computeCapabilities({
    privileged: opts.privileged,
    capAdd: opts.capAdd,
    capDrop: opts.capDrop,
    bounding: opts.host.bounding,
  });
  const user = opts.user ?? { uid: 0, gid: 0 };
  // Non-root users get no effective/permitted capabilities (Docker clears them; ambient is not used).
  const privilegedSets = user.uid === 0 ? caps : [];
  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: !!opts.terminal,
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}),
        ...(user.umask !== undefined ? { umask: user.umask } : {}),
      },
      args: [...opts.args],
      env: buildEnv(opts),
      cwd: opts.cwd || '/',
      capabilities: {
        bounding: caps,
        effective: privilegedSets,
        permitted: privilegedSets,
        inheritable: [],
        ambient: [],
      },
      rlimits: clampRlimits(opts.rlimits ?? [], opts.host.rlimits),
      noNewPrivileges: !!opts.noNewPrivileges,
      ...(opts.oomScoreAdj !== undefined ? { oomScoreAdj: opts.oomScoreAdj } : {}),
    },
    root: { path: opts.rootfs, readonly: !!opts.readonlyRootfs },
    mounts: buildMounts(opts),
    linux: {
      namespaces: buildNamespaces(opts),
      resources: buildResources(opts),
      maskedPaths: opts.privileged ? [] : [...defaultMaskedPaths],
      readonlyPaths: opts.privileged ? [] : [...defaultReadonlyPaths],
    },
  };
  if (opts.hostname && opts.namespaces?.uts !== 'host') spec.hostname = opts.hostname;
  if (opts.annotations) spec.annotations = { ...opts.annotations };
  if (opts.cgroupsPath) spec.linux.cgroupsPath = opts.cgroupsPath;
  if (opts.sysctls && Object.keys(opts.sysctls).length > 0) spec.linux.sysctl = { ...opts.sysctls };
  if (opts.devices?.length) spec.linux.devices = opts.devices.map((d) => ({ ...d }));
  const seccomp = opts.privileged ? 'unconfined' : (opts.seccomp ?? 'default');
  if (seccomp === 'default') spec.linux.seccomp = defaultSeccompProfile(caps);
  else if (seccomp !== 'unconfined') spec.linux.seccomp = seccomp;
  return spec;
}
