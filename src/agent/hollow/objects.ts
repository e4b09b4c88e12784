import type { Lease, Node, Pod, PodStatus } from '../../client/index.ts';

/** What each hollow node reports it has. */
export interface Capacity {
  cpu: string;
  memory: string;
  pods: number;
}

export const hollowLabel = 'drover.dev/hollow';
export const nodeLeaseNamespace = 'kube-node-lease';

/** RFC 3339 without fractions, as Kubernetes writes metav1.Time. */
export function timeOf(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Node i's address in 100.127.0.0/16 (shared address space: never routed here). */
export function nodeIP(index: number): string {
  return ipv4(((100 << 24) | (127 << 16) | ((index + 1) & 0xffff)) >>> 0);
}

/** The n-th pod IP of node i: a /24 per node in 100.64.0.0/10, like a per-node pod CIDR. */
export function podIP(index: number, n: number): string {
  return ipv4((((100 << 24) | (64 << 16)) + (index % 16384) * 256 + 2 + (n % 250)) >>> 0);
}

export function podCIDR(index: number): string {
  return `${podIP(index, -2)}/24`;
}

export function nodeObject(name: string, index: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'hollow',
        [hollowLabel]: 'true',
      },
    },
    spec: { podCIDR: podCIDR(index), podCIDRs: [podCIDR(index)] },
  };
}

export function nodeStatus(index: number, cap: Capacity, now: number): NonNullable<Node['status']> {
  const capacity = { cpu: cap.cpu, memory: cap.memory, pods: String(cap.pods), 'ephemeral-storage': '100Gi' };
  const t = timeOf(now);
  const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
  });
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'hollow node has sufficient memory'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'hollow node has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'hollow node has sufficient PID'),
      cond('Ready', 'True', 'KubeletReady', 'hollow node is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: nodeIP(index) },
      { type: 'Hostname', address: `hollow-${index}` },
    ],
    nodeInfo: {
      kubeletVersion: 'v1.31.0-drover-hollow',
      containerRuntimeVersion: 'hollow://0',
      operatingSystem: 'linux',
      architecture: 'amd64',
      osImage: 'hollow',
      kernelVersion: 'hollow',
    },
  };
}

export function leaseObject(node: string, uid: string | undefined, now: number): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: nodeLeaseNamespace,
      ownerReferences: uid ? [{ apiVersion: 'v1', kind: 'Node', name: node, uid }] : undefined,
    },
    spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: microTime(now) },
  };
}

export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}

/** The status a kubelet reports for a pod whose containers all started and are ready. */
export function runningStatus(pod: Pod, ip: string, hostIP: string, now: number): PodStatus {
  const t = timeOf(now);
  const cond = (type: string) => ({
    type,
    status: 'True' as const,
    lastProbeTime: null,
    lastTransitionTime: t,
  });
  const containers = pod.spec?.containers ?? [];
  return {
    phase: 'Running',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: t,
    qosClass: 'BestEffort',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(
      cond,
    ),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      containerID: `hollow://${pod.metadata.uid ?? ''}/${c.name}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: t } },
    })),
  };
}
