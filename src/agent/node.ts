/**
 * Node registration and heartbeats: the Node object (labels, addresses,
 * capacity/allocatable, nodeInfo, conditions refreshed periodically) and the
 * node Lease in kube-node-lease renewed every 10 s, as the kubelet does. The
 * pod CIDR is node.spec.podCIDR as the server's node IPAM controller assigns
 * it (waited for a few seconds); a control plane without controllers never
 * does, so then a free /24 of the cluster CIDR is chosen here and written to
 * the Node.
 */

import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';
import type { Client, Condition, Lease, Node } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../lib/errors.ts';
import { defaultThresholds, measurePressure, type Pressure } from './eviction.ts';
import { timeOf } from './status.ts';

export const kubeletVersion = 'v1.32.4-drover';
export const runtimeVersion = 'drover://0.1.0';
export const nodeLeaseNamespace = 'kube-node-lease';

export interface NodeFacts {
  name: string;
  ip: string;
  controlPlane: boolean;
  /** Where pod data lives (for ephemeral-storage and disk pressure). */
  dataDir: string;
  maxPods: number;
  /** The agent's kubelet port (kubelet-server.ts; default 10250), published in the Node's daemonEndpoints. */
  kubeletPort?: number;
}

/** The host's first non-loopback IPv4 address. */
export function hostIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

const goArch: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

export function nodeObject(f: NodeFacts): Node {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': f.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': goArch[arch()] ?? arch(),
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': goArch[arch()] ?? arch(),
  };
  if (f.controlPlane) labels['node-role.kubernetes.io/control-plane'] = 'true';
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: f.name, labels }, spec: {} };
}

/** `pressure`: the eviction manager's signals (eviction.ts); default: measured with upstream's thresholds. */
export async function nodeStatus(
  f: NodeFacts,
  now: number,
  old?: Node,
  pressure?: Pressure,
): Promise<NonNullable<Node['status']>> {
  const fs = await statfs(f.dataDir);
  const diskTotal = fs.blocks * fs.bsize;
  const p = pressure ?? (await measurePressure(f.dataDir, defaultThresholds));
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: String(f.maxPods),
    'ephemeral-storage': `${Math.floor(diskTotal / 1024)}Ki`,
  };
  const t = timeOf(now);
  const cond = (type: string, on: boolean, yes: [string, string], no: [string, string]): Condition => {
    const status = on ? 'True' : 'False';
    const prev = old?.status?.conditions?.find((c) => c.type === type);
    const [reason, message] = on ? yes : no;
    return {
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: t,
      lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : t,
    };
  };
  const memoryPressure = p.memory;
  const diskPressure = p.disk;
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      cond(
        'MemoryPressure',
        memoryPressure,
        ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
        ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ),
      cond(
        'DiskPressure',
        diskPressure,
        ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
        ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ),
      cond(
        'PIDPressure',
        false,
        ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
        ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ),
      cond(
        'Ready',
        true,
        ['KubeletReady', 'kubelet is posting ready status'],
        ['KubeletNotReady', 'kubelet is not ready'],
      ),
    ],
    addresses: [
      { type: 'InternalIP', address: f.ip },
      { type: 'Hostname', address: hostname() },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: f.kubeletPort ?? 10250 } },
    nodeInfo: {
      machineID: readFileSync('/etc/machine-id', 'utf8').trim(),
      systemUUID: '',
      bootID: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      kernelVersion: release(),
      osImage: osImage(),
      containerRuntimeVersion: runtimeVersion,
      kubeletVersion,
      kubeProxyVersion: kubeletVersion,
      operatingSystem: 'linux',
      architecture: goArch[arch()] ?? arch(),
    },
  };
}

/** A free /24 of `cluster` (a /16) given the CIDRs other nodes hold. */
export function chooseCIDR(cluster: string, taken: string[]): string {
  const [base = '', bits] = cluster.split('/');
  if (bits !== '16') throw new Error(`cluster CIDR ${cluster}: only a /16 is supported`);
  const [a, b] = base.split('.');
  const used = new Set(taken);
  for (let i = 0; i < 256; i++) {
    const c = `${a}.${b}.${i}.0/24`;
    if (!used.has(c)) return c;
  }
  throw new ConflictError(`choosing a pod CIDR: every /24 of ${cluster} is taken`);
}

/** Registers (or adopts) the Node and returns it with its pod CIDR settled. */
export async function registerNode(
  client: Client,
  f: NodeFacts,
  opts: {
    podCIDR?: string;
    clusterCIDR: string;
    now: number;
    /** How long to wait for the server to assign node.spec.podCIDR before choosing one (default 5 s). */
    podCIDRWaitMs?: number;
  },
): Promise<{ node: Node; podCIDR: string }> {
  let node: Node;
  try {
    node = await client.create<Node>(resources.nodes, nodeObject(f));
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
    node = await client.get<Node>(resources.nodes, f.name);
    const want = nodeObject(f).metadata.labels ?? {};
    const have = node.metadata.labels ?? {};
    if (Object.entries(want).some(([k, v]) => have[k] !== v)) {
      node = await client.patch<Node>(resources.nodes, f.name, 'merge', { metadata: { labels: want } });
    }
  }
  if (!node.spec?.podCIDR && !opts.podCIDR)
    node = await awaitPodCIDR(client, f.name, opts.podCIDRWaitMs ?? 5000);
  let podCIDR = node.spec?.podCIDR ?? opts.podCIDR;
  while (!node.spec?.podCIDR) {
    if (!podCIDR) {
      const all = await client.list<Node>(resources.nodes);
      podCIDR = chooseCIDR(opts.clusterCIDR, all.items.map((n) => n.spec?.podCIDR ?? '').filter(Boolean));
    }
    try {
      // An update guarded by resourceVersion: a range the server assigned meanwhile wins.
      node = await client.update<Node>(resources.nodes, {
        ...node,
        spec: { ...node.spec, podCIDR, podCIDRs: [podCIDR] },
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      node = await client.get<Node>(resources.nodes, f.name);
      if (!opts.podCIDR) podCIDR = undefined;
    }
  }
  podCIDR = node.spec.podCIDR;
  node = await client.patch<Node>(
    resources.nodes,
    f.name,
    'merge',
    { status: await nodeStatus(f, opts.now, node) },
    { subresource: 'status' },
  );
  return { node, podCIDR };
}

/** The Node once the server has given it a pod CIDR, or as it is after `ms`. */
async function awaitPodCIDR(client: Client, name: string, ms: number): Promise<Node> {
  const deadline = Date.now() + ms;
  for (;;) {
    const node = await client.get<Node>(resources.nodes, name);
    if (node.spec?.podCIDR || Date.now() >= deadline) return node;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}

/** Creates or renews the node's Lease; returns the stored version to renew next time. */
export async function renewLease(
  client: Client,
  node: Node,
  lease: Lease | undefined,
  now: number,
): Promise<Lease> {
  const name = node.metadata.name ?? '';
  try {
    if (!lease) {
      lease = await client
        .get<Lease>(resources.leases, name, { namespace: nodeLeaseNamespace })
        .catch((err) => {
          if (err instanceof NotFoundError) return undefined;
          throw err;
        });
    }
    if (!lease) {
      return await client.create<Lease>(resources.leases, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name,
          namespace: nodeLeaseNamespace,
          ownerReferences: node.metadata.uid
            ? [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }]
            : undefined,
        },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(now) },
      });
    }
    return await client.update<Lease>(resources.leases, {
      ...lease,
      spec: { ...lease.spec, holderIdentity: name, renewTime: microTime(now) },
    });
  } catch (err) {
    if (err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError) {
      // Someone wrote it meanwhile (or it went): read it back next period.
      return client.get<Lease>(resources.leases, name, { namespace: nodeLeaseNamespace });
    }
    throw err;
  }
}
