import { parseMilli, parseQuantity } from '../api/quantity.ts';
import type { Container, Pod } from '../client/index.ts';
import { specOf } from './types.ts';

/** Amounts of resources: CPU in millicores, memory and storage in bytes, others as counts. */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended and hugepages resources by name. */
  scalar: Record<string, number>;
}

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: {} };
}

/** Upstream's defaults for scoring pods that request nothing (so they still count). */
export const defaultMilliCPURequest = 100;
export const defaultMemoryRequest = 200 * 1024 * 1024;

/** Reads a resource list (`{cpu: "100m", memory: "1Gi"}`). Unknown names land in `scalar`. */
export function resourcesOf(list: Record<string, string> | undefined): Resources {
  const r = emptyResources();
  if (!list) return r;
  for (const [name, q] of Object.entries(list)) add1(r, name, q);
  return r;
}

function add1(r: Resources, name: string, q: string | number): void {
  if (name === 'cpu') r.milliCPU += parseMilli(q);
  else if (name === 'memory') r.memory += parseQuantity(q);
  else if (name === 'ephemeral-storage') r.ephemeralStorage += parseQuantity(q);
  else if (name !== 'pods') r.scalar[name] = (r.scalar[name] ?? 0) + parseQuantity(q);
}

export function addResources(into: Resources, r: Resources, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = (into.scalar[k] ?? 0) + sign * v;
}

function maxInto(into: Resources, r: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = Math.max(into.scalar[k] ?? 0, v);
}

function requestsOf(c: Container): Resources {
  // A container with limits but no requests requests its limits (API defaulting).
  return resourcesOf({ ...c.resources?.limits, ...c.resources?.requests });
}

/**
 * A pod's effective request, upstream's rule: the larger of the sum over app
 * containers and the largest single init container, plus the pod overhead.
 */
export function podRequests(pod: Pod): Resources {
  const spec = specOf(pod);
  const sum = emptyResources();
  for (const c of spec.containers ?? []) addResources(sum, requestsOf(c));
  for (const c of spec.initContainers ?? []) maxInto(sum, requestsOf(c));
  if (spec.overhead) addResources(sum, resourcesOf(spec.overhead));
  return sum;
}

/** CPU and memory requests with zero replaced by upstream's defaults, for scoring. */
export function nonZeroRequests(pod: Pod): { milliCPU: number; memory: number } {
  let milliCPU = 0;
  let memory = 0;
  for (const c of specOf(pod).containers ?? []) {
    const r = requestsOf(c);
    milliCPU += r.milliCPU || defaultMilliCPURequest;
    memory += r.memory || defaultMemoryRequest;
  }
  return { milliCPU, memory };
}
