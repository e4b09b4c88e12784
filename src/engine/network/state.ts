/**
 * What the network manager remembers, in two JSON files written atomically
 * (temp file + rename):
 * - `<dataDir>/networks.json`: the networks themselves; survives reboots.
 * - `<runDir>/network-runtime.json`: sandboxes, endpoints (IP leases) and
 *   published ports; they describe kernel objects that a reboot erases, so
 *   they live under the run dir and init() drops what no longer exists.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Labels } from '../types.ts';
import type { PortRule } from './firewall.ts';

export interface NetworkRecord {
  id: string;
  name: string;
  /** 'bridge', 'host' or 'null' (Docker's driver names). */
  driver: 'bridge' | 'host' | 'null';
  created: string;
  /** Predefined networks (bridge, host, none) cannot be removed. */
  builtin: boolean;
  bridge?: string;
  subnet?: string;
  gateway?: string;
  /** Allocation is restricted to this range when set (IPAM Config IPRange). */
  ipRange?: string;
  internal: boolean;
  attachable: boolean;
  labels: Labels;
  options: Record<string, string>;
  /** The last address handed out: allocation continues after it, so freed IPs are not reused at once. */
  lastIp?: string;
}

export interface EndpointRecord {
  containerId: string;
  networkId: string;
  endpointId: string;
  /** Container name without the leading slash, for inspect and name resolution. */
  name: string;
  aliases: string[];
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  ifname: string;
  hostIf: string;
  hasDefaultRoute: boolean;
  /** The address was asked for (IPAMConfig.IPv4Address). */
  staticIp: boolean;
}

export interface SandboxRecord {
  containerId: string;
  /** Our namespace's name under /run/netns; absent for host / container:<id> modes. */
  netns?: string;
  netnsPath: string | null;
  mode: 'private' | 'host' | 'container';
  hostname: string;
  /** A hosts file we keep in sync with the peers on the container's networks. */
  hostsPath?: string;
  extraHosts: string[];
}

export interface PortRecord extends PortRule {
  containerId: string;
}

export interface RuntimeState {
  sandboxes: SandboxRecord[];
  endpoints: EndpointRecord[];
  ports: PortRecord[];
}

async function readJson<T>(path: string, empty: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw err;
  }
}

/**
 * Synchronous on purpose: the files are a few KiB, and four thread-pool round
 * trips (open, write, close, rename) cost milliseconds on a busy machine where
 * the blocking calls take tens of microseconds; this sits on every container
 * start and stop.
 */
function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

export class StateFiles {
  readonly networksPath: string;
  readonly runtimePath: string;
  constructor(dataDir: string, runDir: string) {
    this.networksPath = join(dataDir, 'networks.json');
    this.runtimePath = join(runDir, 'network-runtime.json');
  }

  async load(): Promise<{ networks: NetworkRecord[]; runtime: RuntimeState }> {
    const n = await readJson<{ networks: NetworkRecord[] }>(this.networksPath, { networks: [] });
    const r = await readJson<RuntimeState>(this.runtimePath, { sandboxes: [], endpoints: [], ports: [] });
    return { networks: n.networks, runtime: r };
  }

  saveNetworks(networks: NetworkRecord[]): void {
    writeJsonAtomic(this.networksPath, { networks });
  }

  saveRuntime(runtime: RuntimeState): void {
    writeJsonAtomic(this.runtimePath, runtime);
  }
}
