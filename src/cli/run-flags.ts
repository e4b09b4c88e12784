import path from 'node:path';
import type { ContainerConfig, EndpointSettings, HostConfig, MountSpec } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';
import { addExpose, addPublish, type PublishedPorts } from './ports.ts';
import { parseSize } from './units.ts';

/** The options of `run`/`create` as commander parses them (camelCase of the long flags). */
export interface RunOptions {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  volume?: string[];
  mount?: string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  network?: string;
  net?: string;
  networkAlias?: string[];
  ip?: string;
  restart?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  entrypoint?: string;
  init?: boolean;
  hostname?: string;
  label?: string[];
  labelFile?: string[];
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  tmpfs?: string[];
  securityOpt?: string[];
  ulimit?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  shmSize?: string;
  sysctl?: string[];
  logDriver?: string;
  logOpt?: string[];
  ipc?: string;
  pid?: string;
  groupAdd?: string[];
  /** Not part of the body: the CLI watches stdin for it. */
  detachKeys?: string;
  /** Not part of the body: false with --no-sig-proxy. */
  sigProxy?: boolean;
}

/** Everything outside the flags that shapes the body. */
export interface RunEnvironment {
  /** The client's environment, for `-e NAME` without a value. */
  env: NodeJS.ProcessEnv;
  readFile: (file: string) => string;
  /** [rows, cols] of the local terminal when -t; [0, 0] otherwise. */
  consoleSize?: [number, number];
  cwd?: string;
}

/** The create body, as the docker CLI sends it: Config fields at the top, then HostConfig and NetworkingConfig. */
export type CreateBody = Omit<ContainerConfig, 'Env' | 'Cmd' | 'Entrypoint'> &
  Record<string, unknown> & {
    Env: string[] | null;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    HostConfig: Omit<HostConfig, 'Binds' | 'GroupAdd'> &
      Record<string, unknown> & { Binds: string[] | null; GroupAdd: string[] | null };
    NetworkingConfig: { EndpointsConfig: Record<string, EndpointSettings & Record<string, unknown>> };
  };

function emptyEndpoint(): EndpointSettings & Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new InvalidError(`invalid value ${JSON.stringify(value)} for ${flag}: expected an integer`);
  return Number(value);
}

/** Lines of an env or label file: blank lines and # comments skipped. */
export function readKeyValueFile(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trimStart())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** -e NAME takes NAME's value from the client's environment, as docker does. */
function expandEnv(entry: string, env: NodeJS.ProcessEnv): string {
  if (entry.includes('=')) return entry;
  const value = env[entry];
  return value === undefined ? entry : `${entry}=${value}`;
}

export function parseRestart(text: string): {
  Name: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  MaximumRetryCount: number;
} {
  const [name = '', count] = text.split(':');
  if (name === 'on-failure') {
    const n = count === undefined ? 0 : intFlag(count, '--restart');
    if (n === undefined || n < 0) throw new InvalidError(`invalid restart count in ${JSON.stringify(text)}`);
    return { Name: 'on-failure', MaximumRetryCount: n };
  }
  if ((name === 'no' || name === 'always' || name === 'unless-stopped') && count === undefined) {
    return { Name: name, MaximumRetryCount: 0 };
  }
  throw new InvalidError(
    `invalid restart policy ${JSON.stringify(text)}: use no, always, on-failure[:max-retries] or unless-stopped`,
  );
}

export function parseUlimit(text: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!m)
    throw new InvalidError(
      `invalid ulimit ${JSON.stringify(text)}: use name=soft[:hard], e.g. nofile=1024:2048`,
    );
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard && hard !== -1)
    throw new InvalidError(`invalid ulimit ${JSON.stringify(text)}: soft limit above hard limit`);
  return { Name: m[1] ?? '', Soft: soft, Hard: hard };
}

function isTrue(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidError(`invalid boolean ${JSON.stringify(value)} in --mount: use true or false`);
}

/** --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=64m] */
export function parseMount(text: string, cwd: string): MountSpec {
  const fields = new Map<string, string | undefined>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    fields.set(
      (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase(),
      eq < 0 ? undefined : part.slice(eq + 1),
    );
  }
  const type = fields.get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw new InvalidError(
      `invalid mount type ${JSON.stringify(type)} in --mount ${text}: use bind, volume or tmpfs`,
    );
  }
  const target = fields.get('target') ?? fields.get('destination') ?? fields.get('dst');
  if (!target) throw new InvalidError(`--mount ${text} has no target: add target=/path/in/container`);
  const mount: MountSpec = { Type: type, Target: target };
  const source = fields.get('source') ?? fields.get('src');
  if (source) mount.Source = type === 'bind' ? path.resolve(cwd, source) : source;
  if (type === 'bind' && !source)
    throw new InvalidError(`--mount ${text}: a bind mount needs source=/host/path`);
  const ro = fields.has('readonly') ? fields.get('readonly') : fields.has('ro') ? fields.get('ro') : 'false';
  if (isTrue(ro)) mount.ReadOnly = true;
  const size = fields.get('tmpfs-size');
  const mode = fields.get('tmpfs-mode');
  if (size !== undefined || mode !== undefined) {
    mount.TmpfsOptions = {};
    if (size !== undefined) mount.TmpfsOptions.SizeBytes = parseSize(size, '--mount tmpfs-size');
    if (mode !== undefined) mount.TmpfsOptions.Mode = Number.parseInt(mode, 8);
  }
  const propagation = fields.get('bind-propagation');
  if (propagation) mount.BindOptions = { Propagation: propagation };
  if (fields.has('volume-nocopy')) mount.VolumeOptions = { NoCopy: isTrue(fields.get('volume-nocopy')) };
  return mount;
}

/** -v: "/ctr" is an anonymous volume (Config.Volumes); "src:/ctr[:opts]" a bind (src a path) or named volume. */
function addVolume(spec: string, binds: string[], volumes: Record<string, object>, cwd: string): void {
  const parts = spec.split(':');
  if (parts.length === 1) {
    if (!spec.startsWith('/'))
      throw new InvalidError(`invalid volume ${JSON.stringify(spec)}: the container path must be absolute`);
    volumes[spec] = {};
    return;
  }
  const [source = '', target = '', ...rest] = parts;
  if (!target.startsWith('/') || rest.length > 1 || !source) {
    throw new InvalidError(
      `invalid volume ${JSON.stringify(spec)}: use /host/path:/ctr/path[:ro] or volume-name:/ctr/path[:ro]`,
    );
  }
  const isPath = source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
  const resolved = isPath && !source.startsWith('/') ? path.resolve(cwd, source) : source;
  binds.push([resolved, target, ...rest].join(':'));
}

function toMap(entries: string[], flag: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (!key) throw new InvalidError(`invalid ${flag} ${JSON.stringify(e)}: use key=value`);
    map[key] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return map;
}

function networkEndpoints(
  opts: RunOptions,
  mode: string,
): Record<string, EndpointSettings & Record<string, unknown>> {
  if (mode === 'default') return { default: emptyEndpoint() };
  if (!opts.networkAlias?.length && !opts.ip) return {};
  const ep = emptyEndpoint();
  if (opts.networkAlias?.length) ep.Aliases = opts.networkAlias;
  if (opts.ip) ep.IPAMConfig = { IPv4Address: opts.ip };
  return { [mode]: ep };
}

/**
 * Translates run/create flags into the body of `POST /containers/create`, the
 * same body the docker CLI sends (full structure, docker's zero values), so the
 * server sees one shape whichever client it serves. Throws InvalidError with
 * the flag named on malformed input.
 */
export function buildCreateBody(
  verb: 'run' | 'create',
  image: string,
  command: string[],
  opts: RunOptions,
  runEnv: RunEnvironment,
): CreateBody {
  const cwd = runEnv.cwd ?? process.cwd();
  const detached = verb === 'run' && opts.detach === true;
  if (opts.rm && opts.restart && opts.restart !== 'no') {
    throw new InvalidError(
      'conflicting options: --restart and --rm (a container removed on exit cannot be restarted)',
    );
  }
  const envEntries = [
    ...(opts.envFile ?? []).flatMap((f) => readKeyValueFile(runEnv.readFile(f))),
    ...(opts.env ?? []),
  ].map((e) => expandEnv(e, runEnv.env));
  const labelEntries = [
    ...(opts.labelFile ?? []).flatMap((f) => readKeyValueFile(runEnv.readFile(f))),
    ...(opts.label ?? []),
  ];
  const ports: PublishedPorts = { exposed: {}, bindings: {} };
  for (const p of opts.publish ?? []) addPublish(ports, p);
  for (const p of opts.expose ?? []) addExpose(ports, p);
  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of opts.volume ?? []) addVolume(v, binds, volumes, cwd);
  const networkMode = opts.network ?? opts.net ?? 'default';
  const attachStdin = opts.interactive === true && !detached;
  const memory = opts.memory === undefined ? 0 : parseSize(opts.memory, '--memory');
  let memorySwap = 0;
  if (opts.memorySwap === '-1') memorySwap = -1;
  else if (opts.memorySwap !== undefined) memorySwap = parseSize(opts.memorySwap, '--memory-swap');
  let nanoCpus = 0;
  if (opts.cpus !== undefined) {
    const cpus = Number(opts.cpus);
    if (!/^\d*\.?\d+$/.test(opts.cpus) || !(cpus > 0)) {
      throw new InvalidError(
        `invalid value ${JSON.stringify(opts.cpus)} for --cpus: use a positive number such as 0.5 or 2`,
      );
    }
    nanoCpus = Math.round(cpus * 1e9);
  }

  const hostConfig: CreateBody['HostConfig'] = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: '',
    LogConfig: { Type: opts.logDriver ?? '', Config: toMap(opts.logOpt ?? [], '--log-opt') },
    NetworkMode: networkMode,
    PortBindings: ports.bindings,
    RestartPolicy: opts.restart ? parseRestart(opts.restart) : { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: opts.rm === true,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: opts.tty && runEnv.consoleSize ? runEnv.consoleSize : [0, 0],
    CapAdd: opts.capAdd?.length ? opts.capAdd : null,
    CapDrop: opts.capDrop?.length ? opts.capDrop : null,
    CgroupnsMode: '',
    Dns: opts.dns ?? [],
    DnsOptions: opts.dnsOption ?? [],
    DnsSearch: opts.dnsSearch ?? [],
    ExtraHosts: opts.addHost?.length ? opts.addHost.map((h) => h.replace('=', ':')) : null,
    GroupAdd: opts.groupAdd?.length ? opts.groupAdd : null,
    IpcMode: opts.ipc ?? '',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: opts.pid ?? '',
    Privileged: opts.privileged === true,
    PublishAllPorts: opts.publishAll === true,
    ReadonlyRootfs: opts.readOnly === true,
    SecurityOpt: opts.securityOpt?.length ? opts.securityOpt : null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: opts.shmSize === undefined ? 0 : parseSize(opts.shmSize, '--shm-size'),
    Isolation: '',
    CpuShares: intFlag(opts.cpuShares, '--cpu-shares') ?? 0,
    Memory: memory,
    NanoCpus: nanoCpus,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: opts.cpusetCpus ?? '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation:
      opts.memoryReservation === undefined ? 0 : parseSize(opts.memoryReservation, '--memory-reservation'),
    MemorySwap: memorySwap,
    MemorySwappiness: -1,
    OomKillDisable: false,
    PidsLimit: intFlag(opts.pidsLimit, '--pids-limit') ?? 0,
    Ulimits: (opts.ulimit ?? []).map(parseUlimit),
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
  };
  if (opts.init) hostConfig.Init = true;
  if (opts.mount?.length) hostConfig.Mounts = opts.mount.map((m) => parseMount(m, cwd));
  if (opts.tmpfs?.length) {
    hostConfig.Tmpfs = Object.fromEntries(
      opts.tmpfs.map((t) => {
        const colon = t.indexOf(':');
        return colon < 0 ? [t, ''] : [t.slice(0, colon), t.slice(colon + 1)];
      }),
    );
  }
  if (opts.sysctl?.length) hostConfig.Sysctls = toMap(opts.sysctl, '--sysctl');

  const body: CreateBody = {
    Hostname: opts.hostname ?? '',
    Domainname: '',
    User: opts.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: !detached,
    AttachStderr: !detached,
    Tty: opts.tty === true,
    OpenStdin: opts.interactive === true,
    StdinOnce: attachStdin,
    Env: envEntries.length ? envEntries : null,
    Cmd: command.length ? command : null,
    Image: image,
    Volumes: volumes,
    WorkingDir: opts.workdir ?? '',
    Entrypoint: opts.entrypoint === undefined ? null : [opts.entrypoint],
    OnBuild: null,
    Labels: toMap(labelEntries, '--label'),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: networkEndpoints(opts, networkMode) },
  };
  if (Object.keys(ports.exposed).length) body.ExposedPorts = ports.exposed;
  if (opts.stopSignal) body.StopSignal = opts.stopSignal;
  if (opts.stopTimeout !== undefined) body.StopTimeout = intFlag(opts.stopTimeout, '--stop-timeout');
  return body;
}
