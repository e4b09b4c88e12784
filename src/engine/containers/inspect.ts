import { join } from 'node:path';
import { InvalidError } from '../../lib/errors.ts';
import type { ContainerInspect, ContainerSummary, Filters, PortSummary } from '../types.ts';
import { type ContainerRecord, zeroTime } from './record.ts';

/** Container paths derived from its directory (never stored, so a moved data dir still works). */
export function containerPaths(dir: string) {
  return {
    dir,
    bundle: join(dir, 'bundle'),
    rootfs: join(dir, 'rootfs'),
    hosts: join(dir, 'hosts'),
    hostname: join(dir, 'hostname'),
    resolvConf: join(dir, 'resolv.conf'),
    log: join(dir, 'ctr.log'),
  };
}

export function toInspect(rec: ContainerRecord, dir: string): ContainerInspect {
  const p = containerPaths(dir);
  const s = rec.state;
  const primary = Object.values(rec.networks)[0];
  const running = s.status === 'running' || s.status === 'paused' || s.status === 'restarting';
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.path,
    Args: rec.args,
    State: {
      Status: s.status,
      Running: running,
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: running ? s.pid : 0,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Image: rec.imageId,
    ResolvConfPath: p.resolvConf,
    HostnamePath: p.hostname,
    HostsPath: p.hosts,
    LogPath: p.log,
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: rec.execIds.length ? rec.execIds : null,
    HostConfig: { ...rec.hostConfig, NetworkMode: rec.hostConfig.NetworkMode || 'default' },
    GraphDriver: {
      Name: 'overlay2',
      Data: { MergedDir: p.rootfs, UpperDir: join(dir, 'upper'), WorkDir: join(dir, 'work') },
    },
    Mounts: rec.mounts,
    Config: rec.config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: rec.sandbox ? rec.id : '',
      SandboxKey: rec.sandbox?.netnsPath ?? '',
      Ports: running ? (rec.sandbox?.ports ?? {}) : {},
      Gateway: running ? (primary?.Gateway ?? '') : '',
      IPAddress: running ? (primary?.IPAddress ?? '') : '',
      IPPrefixLen: running ? (primary?.IPPrefixLen ?? 0) : 0,
      MacAddress: running ? (primary?.MacAddress ?? '') : '',
      Networks: running ? rec.networks : blankEndpoints(rec),
    },
  };
}

/** A stopped container keeps its networks in inspect, without addresses. */
function blankEndpoints(rec: ContainerRecord): ContainerInspect['NetworkSettings']['Networks'] {
  const out: ContainerInspect['NetworkSettings']['Networks'] = {};
  for (const [name, ep] of Object.entries(rec.networks)) {
    out[name] = {
      IPAMConfig: ep.IPAMConfig ?? null,
      Links: null,
      Aliases: ep.Aliases ?? null,
      NetworkID: ep.NetworkID ?? '',
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: '',
      DriverOpts: null,
    };
  }
  return out;
}

export function toSummary(rec: ContainerRecord): ContainerSummary {
  const running = rec.state.status === 'running' || rec.state.status === 'paused';
  const ports: PortSummary[] = [];
  for (const [key, bindings] of Object.entries(running ? (rec.sandbox?.ports ?? {}) : {})) {
    const [port, proto] = key.split('/');
    if (!bindings?.length) {
      ports.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
      continue;
    }
    for (const b of bindings) {
      ports.push({
        IP: b.HostIp || '0.0.0.0',
        PrivatePort: Number(port),
        PublicPort: Number(b.HostPort),
        Type: proto ?? 'tcp',
      });
    }
  }
  for (const key of Object.keys(rec.config.ExposedPorts ?? {})) {
    if (running && rec.sandbox?.ports?.[key]) continue;
    const [port, proto] = key.split('/');
    ports.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
  }
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.imageRef,
    ImageID: rec.imageId,
    Command: [rec.path, ...rec.args].map(quoteArg).join(' '),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: ports,
    Labels: rec.config.Labels ?? {},
    State: rec.state.status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.hostConfig.NetworkMode || 'default' },
    NetworkSettings: { Networks: running ? rec.networks : blankEndpoints(rec) },
    Mounts: rec.mounts,
  };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'"'"'`)}'`;
}

/** The human text of ps's STATUS column: `Up 5 minutes`, `Exited (3) 2 hours ago`, `Created`. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return s.finishedAt === zeroTime
        ? `Exited (${s.exitCode})`
        : `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
  }
}

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours === 1 && minutes < 90) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

const psFilterKeys = new Set([
  'id',
  'name',
  'label',
  'status',
  'ancestor',
  'exited',
  'network',
  'volume',
  'before',
  'since',
  'health',
  'is-task',
  'expose',
  'publish',
]);
const statuses = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

/**
 * Docker's `ps --filter`. `imageMatches(rec, ref)` answers `ancestor`
 * (the image or one of its tags), which needs the image store.
 */
export function psFilter(
  filters: Filters,
  imageMatches: (rec: ContainerRecord, ref: string) => boolean,
): (rec: ContainerRecord) => boolean {
  for (const key of Object.keys(filters)) {
    if (!psFilterKeys.has(key)) throw new InvalidError(`invalid filter '${key}'`);
  }
  for (const s of filters.status ?? []) {
    if (!statuses.has(s)) {
      throw new InvalidError(`invalid filter 'status=${s}': Invalid filter 'status=${s}'`);
    }
  }
  return (rec) => {
    const f = filters;
    if (f.id?.length && !f.id.some((v) => rec.id.startsWith(v))) return false;
    if (f.name?.length && !f.name.some((v) => new RegExp(v.replace(/^\//, '')).test(rec.name))) return false;
    if (f.status?.length && !f.status.includes(rec.state.status)) return false;
    if (
      f.exited?.length &&
      !(rec.state.status === 'exited' && f.exited.includes(String(rec.state.exitCode)))
    ) {
      return false;
    }
    if (f.ancestor?.length && !f.ancestor.some((v) => imageMatches(rec, v))) return false;
    if (
      f.network?.length &&
      !f.network.some(
        (v) => v in rec.networks || Object.values(rec.networks).some((e) => e.NetworkID?.startsWith(v)),
      )
    ) {
      return false;
    }
    if (
      f.volume?.length &&
      !f.volume.some((v) => rec.mounts.some((m) => m.Name === v || m.Destination === v))
    ) {
      return false;
    }
    for (const v of f.label ?? []) {
      const i = v.indexOf('=');
      const labels = rec.config.Labels ?? {};
      if (i < 0 ? !(v in labels) : labels[v.slice(0, i)] !== v.slice(i + 1)) return false;
    }
    return true;
  };
}
