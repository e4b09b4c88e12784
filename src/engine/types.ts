/**
 * The engine's public model. Its shapes are Docker Engine API 1.41's (PascalCase
 * JSON fields), because the engine is a Docker-compatible engine: dockerapi/
 * passes them through nearly untouched and the CLI prints them. The engine
 * knows nothing of Kubernetes; the agent uses these same calls.
 *
 * Identifiers: every `ref` argument accepts a full id, a unique id prefix or a
 * name (containers, networks) / reference (images). Errors are the classes of
 * lib/errors.ts: NotFoundError ("no such container: x"), ConflictError (in use,
 * running), AlreadyExistsError (name taken), InvalidError (bad input).
 */
import type { Readable } from 'node:stream';

export type Labels = Record<string, string>;
/** Docker's filter map: `{"label": ["a=b"], "status": ["running"]}`. */
export type Filters = Record<string, string[]>;

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Labels;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    Retries?: number;
    StartPeriod?: number;
  };
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Labels };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface HostConfig {
  Binds?: string[];
  Mounts?: MountSpec[];
  PortBindings?: Record<string, PortBinding[] | null>;
  PublishAllPorts?: boolean;
  /**
   * "bridge" (default), "none", "host", "container:<ref>", a network name, or
   * "ns:<path>": join an existing network namespace the caller owns (the node
   * agent's CNI-configured pod sandbox); the container still gets its own
   * hosts/hostname/resolv.conf from ExtraHosts, Hostname and Dns*.
   */
  NetworkMode?: string;
  RestartPolicy?: {
    Name?: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
    MaximumRetryCount?: number;
  };
  AutoRemove?: boolean;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  PidsLimit?: number | null;
  Init?: boolean | null;
  ReadonlyRootfs?: boolean;
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Tmpfs?: Record<string, string>;
  SecurityOpt?: string[] | null;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[] | null;
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  /** "host", "ns:<path>" (join an IPC namespace the caller keeps, as pod containers do), or a new one. */
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  GroupAdd?: string[];
  LogConfig?: { Type?: string; Config?: Record<string, string> };
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}

export interface ContainerCreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig?: HostConfig;
  networkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}

export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

/** `GET /containers/{id}/json`: the fields Docker users script against. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: {
    Bridge: string;
    SandboxID: string;
    SandboxKey: string;
    Ports: Record<string, PortBinding[] | null>;
    Gateway: string;
    IPAddress: string;
    IPPrefixLen: number;
    MacAddress: string;
    Networks: Record<string, EndpointSettings>;
  };
}

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** `GET /containers/json` items. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: PortSummary[];
  Labels: Labels;
  State: ContainerStatus;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
  SizeRw?: number;
  SizeRootFs?: number;
}

export type StreamName = 'stdin' | 'stdout' | 'stderr';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as written in the CRI log. */
  time: string;
  /** The line's bytes, with its trailing newline when the line was complete. */
  data: Buffer;
}

export interface LogOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Unix seconds (fractional allowed); 0 = from the start. */
  since?: number;
  until?: number;
  /** Number of lines from the end, or 'all'. */
  tail?: number | 'all';
  /**
   * When false (the default), consecutive lines of one stream may be batched
   * into one LogEntry (data holds several complete lines, `time` is the
   * first's). Set it when each line needs its own timestamp.
   */
  timestamps?: boolean;
  signal?: AbortSignal;
}

/**
 * A live connection to a process's stdio (attach or exec). With a TTY the
 * output is one raw stream (reported as 'stdout'); without, stdout and stderr
 * stay apart so dockerapi can multiplex them.
 */
export interface StdioSession {
  readonly tty: boolean;
  output: AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>;
  /** Null when stdin was not requested. */
  stdin: NodeJS.WritableStream | null;
  resize(rows: number, cols: number): Promise<void>;
  /** Stop relaying without affecting the process. */
  close(): void;
  /** For exec sessions: resolves with the exit code when the process ends. */
  exitCode?: Promise<number>;
}

export interface ExecCreateRequest {
  Cmd: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  DetachKeys?: string;
}

export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  ContainerID: string;
  Pid: number;
  CanRemove: boolean;
  DetachKeys: string;
}

/** One sample of `GET /containers/{id}/stats`, in Docker's shape (cgroup v1 names). */
export interface StatsSample {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats: Record<string, unknown>;
  networks?: Record<string, NetworkStats>;
  name: string;
  id: string;
  num_procs: number;
  storage_stats: Record<string, unknown>;
}
export interface CpuStats {
  cpu_usage: {
    total_usage: number;
    usage_in_kernelmode: number;
    usage_in_usermode: number;
    percpu_usage?: number[];
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}
export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Labels | null;
  Containers: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container: string;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig;
  Architecture: string;
  Os: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

/** Progress of long operations (load, import, pull): Docker's JSON message stream. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { message: string };
}

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  CheckDuplicate?: boolean;
  IPAM?: {
    Driver?: string;
    Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[];
    Options?: Record<string, string>;
  };
  Options?: Record<string, string>;
  Labels?: Labels;
}

export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: {
    Driver: string;
    Options: Record<string, string> | null;
    Config: { Subnet: string; Gateway: string }[];
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<
    string,
    { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }
  >;
  Options: Record<string, string>;
  Labels: Labels;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Labels;
}

export interface VolumeInspect {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Labels | null;
  Scope: 'local';
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** Docker's event message (`GET /events`). */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Deprecated fields still read by old clients. */
  status?: string;
  id?: string;
  from?: string;
}

export interface PruneReport {
  deleted: string[];
  spaceReclaimed: number;
}

/**
 * Everything the Docker API server and the CLI ask of the engine. The
 * implementation is engine.ts; dockerapi/ tests run against a fake.
 */
export interface EngineApi {
  info(): Promise<Record<string, unknown>>;
  version(): Promise<Record<string, unknown>>;
  diskUsage(): Promise<Record<string, unknown>>;
  /** Past events since `since` (unix seconds), then live ones until the signal aborts or `until` passes. */
  events(opts: {
    since?: number;
    until?: number;
    filters?: Filters;
    signal?: AbortSignal;
  }): AsyncIterable<EngineEvent>;

  createContainer(req: ContainerCreateRequest): Promise<{ Id: string; Warnings: string[] }>;
  startContainer(ref: string): Promise<void>;
  stopContainer(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  killContainer(ref: string, signal?: string): Promise<void>;
  restartContainer(ref: string, opts?: { timeout?: number }): Promise<void>;
  pauseContainer(ref: string): Promise<void>;
  unpauseContainer(ref: string): Promise<void>;
  removeContainer(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  renameContainer(ref: string, newName: string): Promise<void>;
  /** Resolves with the exit code once the condition holds. */
  waitContainer(
    ref: string,
    condition?: 'not-running' | 'next-exit' | 'removed',
    signal?: AbortSignal,
  ): Promise<{ StatusCode: number; Error?: { Message: string } }>;
  listContainers(opts?: {
    all?: boolean;
    limit?: number;
    size?: boolean;
    filters?: Filters;
  }): Promise<ContainerSummary[]>;
  inspectContainer(ref: string, opts?: { size?: boolean }): Promise<ContainerInspect>;
  containerLogs(ref: string, opts: LogOptions): AsyncIterable<LogEntry>;
  attachContainer(
    ref: string,
    opts: { stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; stream?: boolean },
  ): Promise<StdioSession>;
  resizeContainer(ref: string, rows: number, cols: number): Promise<void>;
  topContainer(ref: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  containerStats(ref: string, opts: { stream: boolean; signal?: AbortSignal }): AsyncIterable<StatsSample>;
  statPath(ref: string, path: string): Promise<PathStat>;
  getArchive(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }>;
  putArchive(
    ref: string,
    path: string,
    tar: Readable,
    opts?: { noOverwriteDirNonDir?: boolean },
  ): Promise<void>;
  containerChanges(ref: string): Promise<{ Path: string; Kind: 0 | 1 | 2 }[]>;
  exportContainer(ref: string): Promise<Readable>;
  commitContainer(
    ref: string,
    opts: {
      repo?: string;
      tag?: string;
      comment?: string;
      author?: string;
      changes?: string[];
      pause?: boolean;
      config?: ContainerConfig;
    },
  ): Promise<{ Id: string }>;
  pruneContainers(filters?: Filters): Promise<PruneReport>;

  createExec(ref: string, req: ExecCreateRequest): Promise<{ Id: string }>;
  /** Starts the exec; with detach the session's output is empty and stdin null. */
  startExec(execId: string, opts: { detach?: boolean; tty?: boolean }): Promise<StdioSession>;
  resizeExec(execId: string, rows: number, cols: number): Promise<void>;
  inspectExec(execId: string): Promise<ExecInspect>;

  listImages(opts?: { all?: boolean; filters?: Filters }): Promise<ImageSummary[]>;
  inspectImage(ref: string): Promise<ImageInspect>;
  tagImage(ref: string, repo: string, tag?: string): Promise<void>;
  removeImage(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<ImageDeleteItem[]>;
  imageHistory(ref: string): Promise<ImageHistoryItem[]>;
  saveImages(refs: string[]): Promise<Readable>;
  loadImages(tar: Readable, onProgress?: (m: ProgressMessage) => void): Promise<{ loaded: string[] }>;
  importImage(
    tar: Readable,
    opts: {
      repo?: string;
      tag?: string;
      changes?: string[];
      message?: string;
      onProgress?: (m: ProgressMessage) => void;
    },
  ): Promise<{ Id: string }>;
  pruneImages(filters?: Filters): Promise<PruneReport>;
  /**
   * Optional until the registry client exists (dockerapi answers pull/push with an
   * in-stream error without them). `auth` is the X-Registry-Auth header as sent.
   */
  pullImage?(
    ref: string,
    opts: { auth?: string; onProgress?: (m: ProgressMessage) => void; signal?: AbortSignal },
  ): Promise<void>;
  pushImage?(
    ref: string,
    opts: { auth?: string; onProgress?: (m: ProgressMessage) => void; signal?: AbortSignal },
  ): Promise<void>;

  createNetwork(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }>;
  listNetworks(filters?: Filters): Promise<NetworkInspect[]>;
  inspectNetwork(ref: string): Promise<NetworkInspect>;
  removeNetwork(ref: string): Promise<void>;
  connectNetwork(ref: string, container: string, endpoint?: EndpointSettings): Promise<void>;
  disconnectNetwork(ref: string, container: string, force?: boolean): Promise<void>;
  pruneNetworks(filters?: Filters): Promise<PruneReport>;

  createVolume(req: VolumeCreateRequest): Promise<VolumeInspect>;
  listVolumes(filters?: Filters): Promise<VolumeInspect[]>;
  inspectVolume(name: string): Promise<VolumeInspect>;
  removeVolume(name: string, opts?: { force?: boolean }): Promise<void>;
  pruneVolumes(filters?: Filters): Promise<PruneReport>;
}
