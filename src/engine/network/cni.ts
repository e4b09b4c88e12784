/**
 * A generic CNI executor with libcni's semantics, for the kubelet (pod
 * networks through bridge + host-local + portmap, loopback as its own list):
 * - ADD runs the list's plugins in order, each given the previous one's
 *   result as `prevResult`; the final result is cached on disk
 *   (`<cacheDir>/results/<network>-<containerId>-<ifname>`, libcni's layout);
 *   when ADD fails part way the caller must call del() (as libcni's users do);
 * - DEL runs them in reverse with the cached result as `prevResult`, then
 *   drops the cache; DEL of something never added succeeds (plugins are
 *   idempotent);
 * - CHECK runs them in order against the cached result;
 * - `runtimeConfig` holds a capability argument (e.g. portMappings) only for
 *   plugins that declare that capability.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidError, NotFoundError, UnavailableError } from '../../lib/errors.ts';

export interface CniPlugin {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPlugin[];
  disableCheck?: boolean;
}

export interface CniRuntime {
  containerId: string;
  /** Path of the network namespace, e.g. /run/netns/x. */
  netns: string;
  ifname: string;
  /** CNI_ARGS pairs, e.g. [['K8S_POD_NAME', 'web-0']]. */
  args?: [string, string][];
  /** Capability arguments, e.g. { portMappings: [{ hostPort, containerPort, protocol }] }. */
  capabilityArgs?: Record<string, unknown>;
}

/** A CNI result (1.0.0 shape); kept loose because each plugin adds its own fields. */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: Record<string, unknown>;
  [key: string]: unknown;
}

interface CacheEntry {
  kind: 'cni#v1';
  containerId: string;
  ifName: string;
  networkName: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result: CniResult;
}

export class CniExecutor {
  readonly pluginDirs: string[];
  readonly cacheDir: string;
  constructor(opts: { pluginDirs?: string[]; cacheDir: string }) {
    this.pluginDirs = opts.pluginDirs ?? ['/usr/lib/cni', '/opt/cni/bin'];
    this.cacheDir = opts.cacheDir;
  }

  async add(list: CniConfList, rt: CniRuntime): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) prev = await this.exec('ADD', list, plugin, rt, prev);
    const result = prev ?? { cniVersion: list.cniVersion };
    await this.writeCache(list, rt, result);
    return result;
  }

  async del(list: CniConfList, rt: CniRuntime): Promise<void> {
    const cached = await this.cachedResult(list, rt);
    for (const plugin of [...list.plugins].reverse()) await this.exec('DEL', list, plugin, rt, cached);
    await rm(this.cachePath(list, rt), { force: true });
  }

  async check(list: CniConfList, rt: CniRuntime): Promise<void> {
    if (list.disableCheck) return;
    const cached = await this.cachedResult(list, rt);
    if (!cached)
      throw new NotFoundError(`checking network ${list.name}: no cached result for ${rt.containerId}`);
    for (const plugin of list.plugins) await this.exec('CHECK', list, plugin, rt, cached);
  }

  /** The final ADD result, as cached, or undefined. */
  async cachedResult(list: CniConfList, rt: CniRuntime): Promise<CniResult | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.cachePath(list, rt), 'utf8')) as CacheEntry;
      return entry.result;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private cachePath(list: CniConfList, rt: CniRuntime): string {
    return join(this.cacheDir, 'results', `${list.name}-${rt.containerId}-${rt.ifname}`);
  }

  private async writeCache(list: CniConfList, rt: CniRuntime, result: CniResult): Promise<void> {
    const entry: CacheEntry = {
      kind: 'cni#v1',
      containerId: rt.containerId,
      ifName: rt.ifname,
      networkName: list.name,
      cniArgs: rt.args,
      capabilityArgs: rt.capabilityArgs,
      result,
    };
    const path = this.cachePath(list, rt);
    await mkdir(join(this.cacheDir, 'results'), { recursive: true });
    await writeFile(`${path}.tmp`, JSON.stringify(entry));
    await rename(`${path}.tmp`, path);
  }

  /** The object a plugin reads on stdin (libcni's buildOneConfig). */
  static pluginConfig(
    list: CniConfList,
    plugin: CniPlugin,
    rt: CniRuntime,
    prev?: CniResult,
  ): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on && rt.capabilityArgs && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
    if (prev) conf.prevResult = prev;
    return conf;
  }

  private findPlugin(type: string): string {
    if (!/^[\w.-]+$/.test(type)) throw new InvalidError(`invalid CNI plugin type: ${type}`);
    for (const dir of this.pluginDirs) if (existsSync(join(dir, type))) return join(dir, type);
    throw new NotFoundError(`CNI plugin ${type} not found in ${this.pluginDirs.join(', ')}`);
  }

  private exec(
    command: 'ADD' | 'DEL' | 'CHECK',
    list: CniConfList,
    plugin: CniPlugin,
    rt: CniRuntime,
    prev: CniResult | undefined,
  ): Promise<CniResult> {
    const path = this.findPlugin(plugin.type);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifname,
      CNI_PATH: this.pluginDirs.join(':'),
    };
    if (rt.args?.length) env.CNI_ARGS = rt.args.map(([k, v]) => `${k}=${v}`).join(';');
    const stdin = JSON.stringify(CniExecutor.pluginConfig(list, plugin, rt, prev));
    return new Promise((resolve, reject) => {
      const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) =>
        reject(new UnavailableError(`running CNI plugin ${plugin.type}: ${e.message}`, { cause: e })),
      );
      child.on('close', (code) => {
        const text = Buffer.concat(out).toString();
        const what = `CNI ${command} of ${plugin.type} for network ${list.name}`;
        if (code !== 0) {
          let msg = Buffer.concat(err).toString().trim() || text.trim();
          try {
            const e = JSON.parse(text) as { code?: number; msg?: string; details?: string };
            msg = [e.msg, e.details].filter(Boolean).join(': ') || msg;
          } catch {}
          reject(new UnavailableError(`${what}: ${msg}`));
          return;
        }
        if (command !== 'ADD' || text.trim() === '') {
          resolve(prev ?? { cniVersion: list.cniVersion });
          return;
        }
        try {
          resolve(JSON.parse(text) as CniResult);
        } catch (e) {
          reject(new UnavailableError(`${what}: result is not JSON`, { cause: e }));
        }
      });
      child.stdin.end(stdin);
    });
  }
}
