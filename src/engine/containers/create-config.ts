import { InvalidError } from '../../lib/errors.ts';
import type { ContainerConfig, HostConfig, MountPoint } from '../types.ts';

/** The parts of an image config that a container inherits (Env, Cmd, Entrypoint, ...). */
export type ImageDefaults = Pick<
  ContainerConfig,
  'Env' | 'Cmd' | 'Entrypoint' | 'WorkingDir' | 'User' | 'ExposedPorts' | 'Volumes' | 'Labels' | 'StopSignal'
>;

/**
 * Merges the request's Config over the image's, as Docker does: env by key,
 * a request Entrypoint drops the image's Cmd, exposed ports and volumes are
 * unions, labels from the request win.
 */
export function mergeConfig(req: ContainerConfig, image: ImageDefaults, id: string): ContainerConfig {
  const env = new Map<string, string>();
  for (const e of [...(image.Env ?? []), ...(req.Env ?? [])]) {
    const i = e.indexOf('=');
    env.set(i < 0 ? e : e.slice(0, i), e);
  }
  const entrypoint =
    req.Entrypoint !== undefined && req.Entrypoint !== null ? req.Entrypoint : image.Entrypoint;
  const cmd =
    req.Cmd?.length || (req.Entrypoint !== undefined && req.Entrypoint !== null)
      ? (req.Cmd ?? [])
      : (image.Cmd ?? []);
  return {
    ...req,
    Hostname: req.Hostname || id.slice(0, 12),
    Domainname: req.Domainname ?? '',
    User: req.User || image.User || '',
    Env: [...env.values()],
    Cmd: cmd,
    Entrypoint: entrypoint?.length ? entrypoint : null,
    WorkingDir: req.WorkingDir || image.WorkingDir || '',
    ExposedPorts: unionKeys(image.ExposedPorts, req.ExposedPorts),
    Volumes: unionKeys(image.Volumes, req.Volumes),
    Labels: { ...(image.Labels ?? {}), ...(req.Labels ?? {}) },
    StopSignal: req.StopSignal || image.StopSignal || undefined,
    Tty: req.Tty ?? false,
    OpenStdin: req.OpenStdin ?? false,
    StdinOnce: req.StdinOnce ?? false,
    AttachStdin: req.AttachStdin ?? false,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
  };
}

function unionKeys(...maps: (Record<string, object> | undefined)[]): Record<string, object> | undefined {
  const out: Record<string, object> = {};
  for (const m of maps) for (const k of Object.keys(m ?? {})) out[k.includes('/') ? k : `${k}/tcp`] = {};
  return Object.keys(out).length ? out : undefined;
}

/** The process to run: entrypoint + cmd, checked to be non-empty. */
export function commandLine(config: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0 || !argv[0]) throw new InvalidError('No command specified');
  return { path: argv[0], args: argv.slice(1) };
}

/** A mount as the engine carries it from create to start. */
export interface PlannedMount extends MountPoint {
  /** Mount options beyond ro/rw (tmpfs size, mode). */
  options: string[];
}

/**
 * Parses Binds (`src:dst[:opts]`), Mounts, Tmpfs and the image's VOLUMEs into
 * mount points. Named sources are volumes (`needsVolume` lists the ones to
 * create; an empty Name means an anonymous volume to be named by the caller).
 */
export function planMounts(config: ContainerConfig, host: HostConfig): PlannedMount[] {
  const out: PlannedMount[] = [];
  const seen = new Set<string>();
  const add = (m: PlannedMount) => {
    if (!m.Destination.startsWith('/')) {
      throw new InvalidError(`invalid mount config: mount path must be absolute: ${m.Destination}`);
    }
    if (seen.has(m.Destination)) throw new InvalidError(`Duplicate mount point: ${m.Destination}`);
    seen.add(m.Destination);
    out.push(m);
  };
  for (const bind of host.Binds ?? []) add(parseBind(bind));
  for (const m of host.Mounts ?? []) {
    if (!m.Target) throw new InvalidError('invalid mount config: Target must not be empty');
    const rw = !m.ReadOnly;
    if (m.Type === 'bind') {
      if (!m.Source?.startsWith('/'))
        throw new InvalidError(
          `invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`,
        );
      add({
        Type: 'bind',
        Source: m.Source,
        Destination: m.Target,
        Mode: '',
        RW: rw,
        Propagation: m.BindOptions?.Propagation ?? 'rprivate',
        options: [],
      });
    } else if (m.Type === 'volume') {
      add({
        Type: 'volume',
        Name: m.Source ?? '',
        Source: '',
        Destination: m.Target,
        Driver: 'local',
        Mode: 'z',
        RW: rw,
        Propagation: '',
        options: [],
      });
    } else if (m.Type === 'tmpfs') {
      const options: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) options.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) options.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      add({ Type: 'tmpfs', Source: '', Destination: m.Target, Mode: '', RW: rw, Propagation: '', options });
    } else {
      throw new InvalidError(`invalid mount config: mount type unknown: "${(m as { Type: string }).Type}"`);
    }
  }
  for (const [dest, opts] of Object.entries(host.Tmpfs ?? {})) {
    add({
      Type: 'tmpfs',
      Source: '',
      Destination: dest,
      Mode: '',
      RW: !/(^|,)ro(,|$)/.test(opts),
      Propagation: '',
      options: opts ? opts.split(',').filter((o) => o !== 'ro' && o !== 'rw') : [],
    });
  }
  for (const dest of Object.keys(config.Volumes ?? {})) {
    if (seen.has(dest)) continue;
    add({
      Type: 'volume',
      Name: '',
      Source: '',
      Destination: dest,
      Driver: 'local',
      Mode: '',
      RW: true,
      Propagation: '',
      options: [],
    });
  }
  return out;
}

/** Docker's `-v` syntax: `/host:/ctr[:ro|rw|z|...]`, `name:/ctr[:ro]`, `/ctr` (anonymous). */
export function parseBind(spec: string): PlannedMount {
  const parts = spec.split(':');
  if (parts.length === 1) {
    return {
      Type: 'volume',
      Name: '',
      Source: '',
      Destination: parts[0]!,
      Driver: 'local',
      Mode: '',
      RW: true,
      Propagation: '',
      options: [],
    };
  }
  if (parts.length > 3 || !parts[0] || !parts[1])
    throw new InvalidError(`invalid volume specification: '${spec}'`);
  const [src, dest, mode = ''] = parts as [string, string, string?];
  const modes = mode ? mode.split(',') : [];
  for (const m of modes) {
    if (
      ![
        'ro',
        'rw',
        'z',
        'Z',
        'shared',
        'rshared',
        'slave',
        'rslave',
        'private',
        'rprivate',
        'nocopy',
      ].includes(m)
    ) {
      throw new InvalidError(`invalid mode: ${m}`);
    }
  }
  const rw = !modes.includes('ro');
  if (src.startsWith('/')) {
    const propagation = modes.find((m) => /^r?(shared|slave|private)$/.test(m)) ?? 'rprivate';
    return {
      Type: 'bind',
      Source: src,
      Destination: dest,
      Mode: mode,
      RW: rw,
      Propagation: propagation,
      options: [],
    };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(src)) {
    throw new InvalidError(
      `create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
  return {
    Type: 'volume',
    Name: src,
    Source: '',
    Destination: dest,
    Driver: 'local',
    Mode: mode || 'z',
    RW: rw,
    Propagation: '',
    options: modes.includes('nocopy') ? ['nocopy'] : [],
  };
}

/** Docker's validation of resource values the CLI lets through. */
export function validateHostConfig(host: HostConfig): void {
  if (host.Memory && host.Memory > 0 && host.Memory < 6 * 1024 * 1024) {
    throw new InvalidError('Minimum memory limit allowed is 6MB');
  }
  if (host.MemorySwap && host.MemorySwap > 0 && host.Memory && host.MemorySwap < host.Memory) {
    throw new InvalidError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (host.NanoCpus && host.NanoCpus < 0)
    throw new InvalidError('Range of CPUs is from 0.01 to the number of CPUs');
  if (host.NanoCpus && (host.CpuQuota || host.CpuPeriod)) {
    throw new InvalidError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (host.CpuShares && host.CpuShares < 0) throw new InvalidError('invalid CPU shares');
  if (host.AutoRemove && host.RestartPolicy?.Name && host.RestartPolicy.Name !== 'no') {
    throw new InvalidError(`can't create 'AutoRemove' container with restart policy`);
  }
}
