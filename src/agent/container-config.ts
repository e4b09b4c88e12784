/**
 * One pod container as an engine create request: name and labels
 * (naming.ts), image, command (ENTRYPOINT) and args (CMD), workingDir, env,
 * resources as cgroup limits, the pod's network namespace (or the host's),
 * hostname = pod name, /etc/hosts with the pod IP and /etc/resolv.conf
 * pointing at the cluster DNS (dnsPolicy ClusterFirst), volume mounts and a
 * few securityContext fields. The engine restarts nothing: the pod worker
 * owns restarts (RestartPolicy "no").
 */
import type { Container, Pod } from '../client/index.ts';
import type { ContainerCreateRequest, MountSpec } from '../engine/types.ts';
import { ConfigError } from './env.ts';
import { containerLabels, containerName, type PodRef } from './naming.ts';
import { engineResources, type Resources } from './quantity.ts';

export interface DnsSettings {
  /** Cluster DNS server, e.g. 10.43.0.10. */
  clusterDNS: string;
  clusterDomain: string;
}

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  allowPrivilegeEscalation?: boolean;
}

export interface ContainerConfigInput {
  pod: Pod;
  container: Container;
  attempt: number;
  init: boolean;
  env: string[];
  mounts: MountSpec[];
  netnsPath: string | null;
  /** null: the host's IPC namespace; undefined: the container's own. */
  ipcPath?: string | null;
  podIP?: string;
  dns: DnsSettings;
}

export function podRef(pod: Pod): PodRef {
  return {
    name: pod.metadata.name ?? '',
    namespace: pod.metadata.namespace ?? 'default',
    uid: pod.metadata.uid ?? '',
  };
}

/** resolv.conf settings by dnsPolicy (ClusterFirst unless hostNetwork without ClusterFirstWithHostNet). */
export function dnsFor(
  pod: Pod,
  dns: DnsSettings,
): { Dns?: string[]; DnsSearch?: string[]; DnsOptions?: string[] } {
  const policy = String(pod.spec?.dnsPolicy ?? 'ClusterFirst');
  const cfg = (pod.spec?.dnsConfig ?? {}) as {
    nameservers?: string[];
    searches?: string[];
    options?: { name: string; value?: string }[];
  };
  const extraOptions = (cfg.options ?? []).map((o) =>
    o.value !== undefined ? `${o.name}:${o.value}` : o.name,
  );
  if (policy === 'None') {
    return { Dns: cfg.nameservers ?? [], DnsSearch: cfg.searches ?? [], DnsOptions: extraOptions };
  }
  const cluster =
    policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.spec?.hostNetwork);
  if (!cluster) return {};
  const ns = pod.metadata.namespace ?? 'default';
  const d = dns.clusterDomain;
  return {
    Dns: [dns.clusterDNS, ...(cfg.nameservers ?? [])],
    DnsSearch: [`${ns}.svc.${d}`, `svc.${d}`, d, ...(cfg.searches ?? [])],
    DnsOptions: ['ndots:5', ...extraOptions],
  };
}

export function containerConfig(i: ContainerConfigInput): ContainerCreateRequest {
  const { pod, container: c } = i;
  const ref = podRef(pod);
  const sc = {
    ...((pod.spec?.securityContext ?? {}) as SecurityContext),
    ...((c.securityContext ?? {}) as SecurityContext),
  };
  const user =
    sc.runAsUser !== undefined
      ? `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`
      : undefined;
  const hostNetwork = i.netnsPath === null;
  return {
    name: containerName(ref, c.name, i.attempt),
    config: {
      Image: c.image,
      Entrypoint: c.command ?? undefined,
      Cmd: c.args ?? undefined,
      WorkingDir: typeof c.workingDir === 'string' ? c.workingDir : undefined,
      Env: i.env,
      Labels: containerLabels(ref, c.name, i.attempt, i.init ? 'init' : 'app'),
      Hostname: hostNetwork ? undefined : ref.name,
      Tty: c.tty === true,
      OpenStdin: c.stdin === true,
      StdinOnce: c.stdinOnce === true,
      User: user,
    },
    hostConfig: {
      NetworkMode: hostNetwork ? 'host' : `ns:${i.netnsPath}`,
      IpcMode: i.ipcPath === null ? 'host' : i.ipcPath ? `ns:${i.ipcPath}` : undefined,
      PidMode: pod.spec?.hostPID === true ? 'host' : undefined,
      ExtraHosts: i.podIP && !hostNetwork ? [`${ref.name}:${i.podIP}`] : [],
      ...dnsFor(pod, i.dns),
      Mounts: i.mounts,
      RestartPolicy: { Name: 'no' },
      ...engineResources(c.resources as Resources | undefined),
      Privileged: sc.privileged === true,
      ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
      CapAdd: sc.capabilities?.add ?? null,
      CapDrop: sc.capabilities?.drop ?? null,
      SecurityOpt: sc.allowPrivilegeEscalation === false ? ['no-new-privileges'] : null,
      GroupAdd: podGroups(pod),
    },
  };
}

/** fsGroup and supplementalGroups become the processes' supplementary groups. */
function podGroups(pod: Pod): string[] {
  const psc = (pod.spec?.securityContext ?? {}) as { fsGroup?: number; supplementalGroups?: number[] };
  const groups = [...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])];
  return groups.map(String);
}

/** runAsNonRoot: refuse to start what would run as uid 0 (or as a user name that cannot be checked). */
export function checkNonRoot(pod: Pod, c: Container, imageUser: string): void {
  type Sc = { runAsNonRoot?: boolean; runAsUser?: number };
  const sc: Sc = {
    ...(pod.spec?.securityContext as Sc | undefined),
    ...(c.securityContext as Sc | undefined),
  };
  if (!sc.runAsNonRoot) return;
  const ref = `pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${c.name}`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new ConfigError(`container's runAsUser breaks non-root policy (${ref})`);
    return;
  }
  const user = imageUser.split(':')[0] ?? '';
  if (user === '' || user === '0' || user === 'root') {
    throw new ConfigError(`container has runAsNonRoot and image will run as root (${ref})`);
  }
  if (!/^\d+$/.test(user)) {
    throw new ConfigError(
      `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root (${ref})`,
    );
  }
}
