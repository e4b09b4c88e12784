import { InvalidError } from '../../lib/errors.ts';
import { containerCgroupsPath } from '../oci/cgroups.ts';
import type { HostInfo } from '../oci/host.ts';
import type { OciRlimit } from '../oci/oci-spec.ts';
import type { MountSpec, NamespaceMode, SpecOptions } from '../oci/spec.ts';
import type { ResolvedUser } from '../oci/user.ts';
import type { PlannedMount } from './create-config.ts';
import type { ContainerRecord } from './record.ts';

/** Where --init's binary appears inside the container (Docker's path). */
export const initPathInContainer = '/sbin/docker-init';

export interface SpecInputs {
  rec: ContainerRecord;
  rootfs: string;
  user: ResolvedUser;
  /** Netns path to join, or 'host'. */
  network: NamespaceMode;
  /** Host paths of the container's /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etc: { hosts: string; hostname: string; resolvConf: string };
  /** Mounts with volume sources resolved to host paths. */
  mounts: PlannedMount[];
  /** Host path of the init binary (catatonit) when --init is asked for. */
  initBinary?: string;
  host: HostInfo;
}

/** Translates a container record into buildSpec's options (Docker's HostConfig semantics). */
export function specOptions(i: SpecInputs): SpecOptions {
  const { rec } = i;
  const hc = rec.hostConfig;
  const security = parseSecurityOpts(hc.SecurityOpt ?? []);
  const env = [...(rec.config.Env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${i.user.home || '/'}`);
  if (!env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${rec.config.Hostname ?? ''}`);
  let args = [rec.path, ...rec.args];
  const mounts: MountSpec[] = i.mounts.map((m) => ({
    type: m.Type === 'tmpfs' ? 'tmpfs' : 'bind',
    source: m.Type === 'tmpfs' ? 'tmpfs' : m.Source,
    destination: m.Destination,
    readonly: !m.RW,
    options: m.Type === 'tmpfs' ? ['nosuid', 'nodev', ...m.options] : ['rbind', m.Propagation || 'rprivate'],
  }));
  const etcMount = (source: string, destination: string): MountSpec => ({
    type: 'bind',
    source,
    destination,
    readonly: false,
    options: ['rbind', 'rprivate'],
  });
  const userDests = new Set(i.mounts.map((m) => m.Destination));
  for (const [src, dest] of [
    [i.etc.hosts, '/etc/hosts'],
    [i.etc.hostname, '/etc/hostname'],
    [i.etc.resolvConf, '/etc/resolv.conf'],
  ] as const) {
    if (!userDests.has(dest)) mounts.push(etcMount(src, dest));
  }
  if (hc.Init && i.initBinary) {
    mounts.push({
      type: 'bind',
      source: i.initBinary,
      destination: initPathInContainer,
      readonly: true,
      options: ['rbind', 'rprivate'],
    });
    args = [initPathInContainer, '--', ...args];
  }
  return {
    rootfs: i.rootfs,
    readonlyRootfs: hc.ReadonlyRootfs ?? false,
    args,
    env,
    cwd: rec.config.WorkingDir || '/',
    terminal: rec.config.Tty ?? false,
    user: {
      uid: i.user.uid,
      gid: i.user.gid,
      additionalGids: [...i.user.additionalGids, ...groupAdd(hc.GroupAdd)],
    },
    hostname: i.network === 'host' ? undefined : rec.config.Hostname,
    namespaces: {
      network: i.network,
      pid: hc.PidMode === 'host' ? 'host' : 'new',
      // "ns:<path>": an IPC namespace the caller keeps (the agent's pod sandbox).
      ipc:
        hc.IpcMode === 'host'
          ? 'host'
          : hc.IpcMode?.startsWith('ns:')
            ? { path: hc.IpcMode.slice(3) }
            : 'new',
      uts: hc.UTSMode === 'host' || i.network === 'host' ? 'host' : 'new',
    },
    privileged: hc.Privileged ?? false,
    capAdd: hc.CapAdd ?? [],
    capDrop: hc.CapDrop ?? [],
    noNewPrivileges: security.noNewPrivileges,
    seccomp: security.seccomp,
    mounts,
    shmSize: hc.ShmSize || undefined,
    rlimits: (hc.Ulimits ?? []).map((u): OciRlimit => ({ type: u.Name, soft: u.Soft, hard: u.Hard })),
    resources: {
      memory: hc.Memory || undefined,
      memorySwap: hc.MemorySwap || undefined,
      memoryReservation: hc.MemoryReservation || undefined,
      cpuShares: hc.CpuShares || undefined,
      cpuQuota: hc.CpuQuota || undefined,
      cpuPeriod: hc.CpuPeriod || undefined,
      nanoCpus: hc.NanoCpus || undefined,
      cpusetCpus: hc.CpusetCpus || undefined,
      pidsLimit: hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : undefined,
    },
    sysctls: hc.Sysctls,
    cgroupsPath: containerCgroupsPath(rec.id),
    host: i.host,
  };
}

function groupAdd(groups: string[] | undefined): number[] {
  return (groups ?? []).map(Number).filter((g) => Number.isInteger(g) && g >= 0);
}

/** `--security-opt no-new-privileges[:true]`, `seccomp=unconfined`; others (apparmor, label) are accepted and ignored. */
export function parseSecurityOpts(opts: string[]): {
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined';
} {
  let noNewPrivileges = false;
  let seccomp: 'default' | 'unconfined' = 'default';
  for (const opt of opts) {
    const [key = '', value = ''] = opt.includes('=') ? opt.split(/=(.*)/s) : opt.split(/:(.*)/s);
    switch (key) {
      case 'no-new-privileges':
        noNewPrivileges = value === '' || value === 'true';
        break;
      case 'seccomp':
        if (value === 'unconfined') seccomp = 'unconfined';
        else if (value !== 'default' && value !== '') {
          throw new InvalidError(
            `security-opt seccomp=${value}: custom seccomp profiles are not supported; use "unconfined" or the default`,
          );
        }
        break;
      case 'apparmor':
      case 'label':
      case 'systempaths':
        break;
      default:
        throw new InvalidError(`invalid --security-opt: ${JSON.stringify(opt)}`);
    }
  }
  return { noNewPrivileges, seccomp };
}
