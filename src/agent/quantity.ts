/**
 * The engine limits and QoS class a pod's resource quantities give it, as
 * the kubelet derives them. Parsing is api/quantity.ts's.
 */
import { parseQuantity } from '../api/quantity.ts';

export interface Resources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** Engine (cgroup) settings for one container, as the kubelet derives them. */
export function engineResources(r: Resources | undefined): {
  Memory?: number;
  NanoCpus?: number;
  CpuShares?: number;
} {
  const out: { Memory?: number; NanoCpus?: number; CpuShares?: number } = {};
  const memLimit = r?.limits?.memory;
  if (memLimit) out.Memory = Math.ceil(parseQuantity(memLimit));
  const cpuLimit = r?.limits?.cpu;
  if (cpuLimit) out.NanoCpus = Math.round(parseQuantity(cpuLimit) * 1e9);
  // cpu.shares = request in millicores * 1024 / 1000, minimum 2 (upstream's MilliCPUToShares).
  const cpuRequest = r?.requests?.cpu ?? cpuLimit;
  out.CpuShares = cpuRequest ? Math.max(2, Math.floor((parseQuantity(cpuRequest) * 1000 * 1024) / 1000)) : 2;
  return out;
}

/** Guaranteed, Burstable or BestEffort, by upstream's rules (cpu and memory only). */
export function qosClass(containers: { resources?: Resources }[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const res of ['cpu', 'memory']) {
      const l = lim[res];
      const q = req[res] ?? l; // a limit without a request defaults the request to it
      if (q !== undefined || l !== undefined) any = true;
      if (l === undefined || q === undefined || parseQuantity(q) !== parseQuantity(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
