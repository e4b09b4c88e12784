/**
 * The pod network hook: setup gives a pod its network namespace, configured
 * through CNI (bridge of our own name with host-local IPAM over the node's
 * pod CIDR, outbound NAT for the pod CIDR (masquerade.ts), portmap for hostPorts; loopback
 * brought up when the namespace is made); teardown runs CNI DEL and deletes
 * the namespace. hostNetwork pods get no namespace and the host's IP.
 *
 * State lives in the kernel and the CNI result cache only, so both are
 * idempotent and survive an agent restart: the namespace is
 * `<netnsPrefix>pod-<uid>`, the CNI container id is the pod uid.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../client/index.ts';
import { type CniConfList, CniExecutor, type CniRuntime } from '../engine/network/cni.ts';
import { createNetns, deleteNetns, netnsDir, netnsExists, netnsPathOf } from '../engine/network/netns.ts';
import { runTool } from '../engine/network/tool.ts';
import type { Logger } from '../lib/logger.ts';
import type { PodIpc } from './ipc.ts';
import { NodeMasquerade } from './masquerade.ts';

export interface PodNetworkOptions {
  /** The node's pod CIDR, e.g. 10.42.3.0/24. */
  podCIDR: string;
  /** Where the CNI result cache and host-local leases live. */
  dataDir: string;
  /** Bridge name (default drover-cni0; at most 15 characters). */
  bridge?: string;
  /** CNI network name (default drover-pod-network). */
  networkName?: string;
  /** Prefix of namespace names (default "drover-"). */
  netnsPrefix?: string;
  pluginDirs?: string[];
  /** The IPC hook: a new pod's IPC namespace is made by the same process as its network namespace. */
  ipc?: Pick<PodIpc, 'bindTarget' | 'adopt'>;
  log: Logger;
}

export interface PodSandbox {
  /** Null for hostNetwork pods. */
  netnsPath: string | null;
  podIP?: string;
  /** The pod's IPC namespace (ipc.ts): null for hostIPC, undefined when none is kept. */
  ipcPath?: string | null;
}

interface Port {
  containerPort: number;
  hostPort?: number;
  protocol?: string;
  hostIP?: string;
}

export class PodNetwork {
  readonly cni: CniExecutor;
  readonly list: CniConfList;
  readonly #o: PodNetworkOptions;
  readonly #prefix: string;
  /** Pod addresses set up (or found) by this process: steady-state syncs skip the CNI cache file. */
  readonly #ips = new Map<string, string>();
  #netnsMounted = false;
  readonly #masq: NodeMasquerade;

  constructor(o: PodNetworkOptions) {
    this.#o = o;
    this.#prefix = `${o.netnsPrefix ?? 'drover-'}pod-`;
    this.cni = new CniExecutor({ cacheDir: join(o.dataDir, 'cni-cache'), pluginDirs: o.pluginDirs });
    this.list = {
      cniVersion: '1.0.0',
      name: o.networkName ?? 'drover-pod-network',
      plugins: [
        {
          type: 'bridge',
          bridge: o.bridge ?? 'drover-cni0',
          isGateway: true,
          // Outbound NAT is one rule set for the pod CIDR (masquerade.ts), not a chain per pod.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: o.podCIDR }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(o.dataDir, 'cni-ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    };
    this.#masq = new NodeMasquerade({ podCIDR: o.podCIDR, networkName: this.list.name });
  }

  netnsName(uid: string): string {
    return `${this.#prefix}${uid}`;
  }

  /** Pod uids that have a namespace on this node (for garbage collection). */
  listSandboxes(): string[] {
    if (!existsSync(netnsDir)) return [];
    return readdirSync(netnsDir)
      .filter((n) => n.startsWith(this.#prefix))
      .map((n) => n.slice(this.#prefix.length));
  }

  #runtime(uid: string, pod?: Pod): CniRuntime {
    const args: [string, string][] = [['IgnoreUnknown', '1']];
    if (pod) {
      args.push(
        // Kept in the CNI cache: this pod's outbound NAT is the node's (teardown needs no ipMasq).
        [nodeMasqArg, '1'],
        ['K8S_POD_NAMESPACE', pod.metadata.namespace ?? ''],
        ['K8S_POD_NAME', pod.metadata.name ?? ''],
        ['K8S_POD_UID', uid],
        ['K8S_POD_INFRA_CONTAINER_ID', uid],
      );
    }
    const portMappings = pod ? hostPorts(pod) : [];
    return {
      containerId: uid,
      netns: netnsPathOf(this.netnsName(uid)),
      ifname: 'eth0',
      args,
      capabilityArgs: portMappings.length > 0 ? { portMappings } : undefined,
    };
  }

  /** Makes (or finds) the pod's namespace and address. Idempotent. */
  async setup(pod: Pod): Promise<PodSandbox> {
    if (pod.spec?.hostNetwork) return { netnsPath: null };
    const uid = pod.metadata.uid ?? '';
    const name = this.netnsName(uid);
    const known = this.#ips.get(uid);
    if (known && netnsExists(name)) return { netnsPath: netnsPathOf(name), podIP: known };
    const rt = this.#runtime(uid, pod);
    if (netnsExists(name)) {
      const cached = await this.cni.cachedResult(this.list, rt);
      const ip = firstIP(cached?.ips);
      if (ip) {
        this.#ips.set(uid, ip);
        return { netnsPath: netnsPathOf(name), podIP: ip };
      }
    } else {
      const ipcPath = pod.spec?.hostIPC ? undefined : await this.#o.ipc?.bindTarget(uid);
      if ((await this.#createNetns(name, ipcPath)) && ipcPath) this.#o.ipc?.adopt(uid);
    }
    try {
      await this.#masq.ensure();
      // portmap only when the pod asks for host ports: one plugin process less per pod.
      const list = rt.capabilityArgs ? this.list : { ...this.list, plugins: this.list.plugins.slice(0, 1) };
      const result = await this.cni.add(list, rt);
      const ip = firstIP(result.ips);
      if (ip) this.#ips.set(uid, ip);
      this.#o.log.debug({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, ip }, 'pod network set up');
      return { netnsPath: netnsPathOf(name), podIP: ip };
    } catch (err) {
      // libcni's contract: a failed ADD is undone by DEL.
      await this.teardown(uid).catch(() => undefined);
      throw err;
    }
  }

  /**
   * `ip netns add` and `ip -n <ns> link set lo up` in one process: unshare
   * makes the namespace, binds it to /run/netns/<name> and runs `ip` inside.
   * Only once /run/netns is the shared mount `ip netns add` makes (the first
   * namespace of the node goes through it), so both leave the same state.
   * With `ipcPath`, the pod's IPC namespace is made and bound there too;
   * returns whether it was.
   */
  async #createNetns(name: string, ipcPath?: string): Promise<boolean> {
    if (!this.#netnsMounted) {
      this.#netnsMounted = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .some((l) => l.split(' ')[4] === netnsDir && / shared:\d+/.test(l));
      if (!this.#netnsMounted) {
        await createNetns(name, { loopback: true });
        return false;
      }
    }
    const path = netnsPathOf(name);
    await writeFile(path, '');
    const ipc = ipcPath ? [`--ipc=${ipcPath}`] : [];
    try {
      await runTool(`creating network namespace ${name}`, 'unshare', [
        `--net=${path}`,
        ...ipc,
        'ip',
        'link',
        'set',
        'lo',
        'up',
      ]);
      return true;
    } catch (err) {
      await deleteNetns(name).catch(() => undefined);
      throw err;
    }
  }

  /** CNI DEL (frees the address, the veth and the NAT/port rules), then the namespace. Idempotent. */
  async teardown(uid: string): Promise<void> {
    this.#ips.delete(uid);
    const rt = this.#runtime(uid);
    const cached = await this.#cacheEntry(rt);
    rt.capabilityArgs = cached?.capabilityArgs;
    const name = this.netnsName(uid);
    // No cache entry and no namespace: a DEL already finished (it drops the cache, then the
    // namespace goes) or nothing was ever added (the namespace is made before ADD). Repeated
    // clean-ups of a deleted pod then cost no plugin processes.
    if (!cached && !netnsExists(name)) return;
    // With the namespace gone the plugins still release what lives outside it.
    if (!netnsExists(name)) rt.netns = '';
    // A pod added without host ports never ran portmap: one plugin process less (as in setup).
    // One added before the node-wide masquerade (or unknown) has its own ipMasq chain to remove.
    const nodeMasq = cached?.cniArgs?.some(([k]) => k === nodeMasqArg) ?? false;
    const base = nodeMasq ? this.list : this.#withIpMasq();
    const list = cached && !cached.capabilityArgs ? { ...base, plugins: base.plugins.slice(0, 1) } : base;
    await this.cni.del(list, rt);
    await deleteNetns(name);
    await this.#masq.removeIf(() => this.listSandboxes().length === 0);
  }

  /** The list as pods were added before masquerade.ts: the bridge's own ipMasq. */
  #withIpMasq(): CniConfList {
    const [bridge, ...rest] = this.list.plugins;
    return bridge ? { ...this.list, plugins: [{ ...bridge, ipMasq: true }, ...rest] } : this.list;
  }

  /** libcni's cache entry for the pod, or undefined when there is none. */
  async #cacheEntry(rt: CniRuntime): Promise<CacheEntry | undefined> {
    const path = join(this.cni.cacheDir, 'results', `${this.list.name}-${rt.containerId}-${rt.ifname}`);
    try {
      return JSON.parse(await readFile(path, 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
  }
}

interface CacheEntry {
  capabilityArgs?: Record<string, unknown>;
  cniArgs?: [string, string][];
}

/** CNI_ARGS key marking pods whose outbound NAT is the node's rule set (plugins ignore it). */
const nodeMasqArg = 'DROVER_NODE_MASQ';

function firstIP(ips: { address: string }[] | undefined): string | undefined {
  return ips?.[0]?.address.split('/')[0];
}

function hostPorts(
  pod: Pod,
): { hostPort: number; containerPort: number; protocol: string; hostIP?: string }[] {
  const out = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of (c.ports ?? []) as Port[]) {
      if (!p.hostPort) continue;
      out.push({
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: (p.protocol ?? 'TCP').toLowerCase(),
        ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      });
    }
  }
  return out;
}
