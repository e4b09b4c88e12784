/**
 * Resource quantities ("100m", "128Mi", "1.5") to numbers, and the engine
 * limits and QoS class they give a pod. A few lines rather than importing the
 * scheduler's parser: agent/ depends only on client/ and engine/.
 */
import { InvalidError } from '../lib/errors.ts';

const suffixes: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE])?)$/.exec(q.trim());
  const v = m ? Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : (suffixes[m[3] ?? ''] ?? 1)) : Number.NaN;
  if (Number.isNaN(v)) throw new InvalidError(`parsing quantity "${q}": not a Kubernetes quantity`);
  return v;
}

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
