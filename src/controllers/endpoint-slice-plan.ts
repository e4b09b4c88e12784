import type { OwnerReference } from '../api/types.ts';
import type { KubeObject } from '../client/index.ts';
import { canonicalJsonOf } from './canonical-json.ts';
import { type EndpointConditions, type EndpointPort, portsKey } from './service-pods.ts';

/**
 * The pure half of the EndpointSlice controller: given the slices a Service
 * has and the endpoints it should have, which slices to create, update and
 * delete. Like upstream's reconciler it keeps endpoints in the slice they are
 * in (so one pod's change rewrites one slice), fills slices already being
 * rewritten before touching unchanged ones, turns would-be deletions into
 * updates when a slice is needed anyway, and never rewrites a slice whose
 * content is unchanged.
 */

export interface SliceEndpoint {
  addresses: string[];
  conditions: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
}

export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints: SliceEndpoint[] | null;
  ports: EndpointPort[] | null;
}

/** The endpoints one set of resolved ports serves (pods whose named ports resolve alike). */
export interface EndpointGroup {
  ports: EndpointPort[];
  endpoints: SliceEndpoint[];
}

export interface PlanInput {
  /** Metadata every slice of the Service carries: generateName, labels, ownerReferences. */
  meta: { namespace: string; generateName: string; labels: Record<string, string>; owner: OwnerReference };
  existing: readonly EndpointSlice[];
  desired: readonly EndpointGroup[];
  maxEndpointsPerSlice: number;
}

export interface Plan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** An endpoint's identity within a Service, as upstream hashes it: address and pod name (hostNetwork pods share addresses). */
const endpointKey = (e: SliceEndpoint): string =>
  `${e.addresses[0] ?? ''}/${e.targetRef?.namespace ?? ''}/${e.targetRef?.name ?? ''}`;

const sameContent = (a: EndpointSlice, b: EndpointSlice): boolean =>
  canonicalJsonOf([
    a.endpoints ?? [],
    a.ports ?? [],
    a.metadata.labels ?? {},
    a.metadata.ownerReferences ?? [],
  ]) ===
  canonicalJsonOf([
    b.endpoints ?? [],
    b.ports ?? [],
    b.metadata.labels ?? {},
    b.metadata.ownerReferences ?? [],
  ]);

interface Working {
  /** The stored slice the endpoints go to; undefined for a slice still to be made. */
  slice?: EndpointSlice;
  endpoints: SliceEndpoint[];
  ports: EndpointPort[];
  /** Content differs from the stored slice (or it is new). */
  changed: boolean;
}

export function planSlices(input: PlanInput): Plan {
  const { meta, maxEndpointsPerSlice: max } = input;
  const owned = (s: EndpointSlice) =>
    s.addressType === 'IPv4' && (s.metadata.ownerReferences ?? []).some((r) => r.uid === meta.owner.uid);
  const plan: Plan = { create: [], update: [], delete: [] };
  const byKey = new Map<string, EndpointSlice[]>();
  const spare: EndpointSlice[] = [];
  for (const s of input.existing) {
    if (!owned(s)) {
      plan.delete.push(s);
      continue;
    }
    const k = portsKey(s.ports ?? []);
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const desired = input.desired.filter((g) => g.endpoints.length > 0);
  const working: Working[] = [];
  const wanted = new Set<string>();
  for (const group of desired) {
    const k = portsKey(group.ports);
    wanted.add(k);
    working.push(...fillGroup(group, byKey.get(k) ?? [], max, spare));
  }
  for (const [k, slices] of byKey) if (!wanted.has(k)) spare.push(...slices);
  if (desired.length === 0) {
    // No endpoints at all: one empty placeholder slice, as upstream keeps.
    const keep = spare.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    working.push({ slice: keep, endpoints: [], ports: [], changed: !keep });
    if (keep) spare.splice(spare.indexOf(keep), 1);
  }
  for (const w of working) {
    if (!w.slice) {
      // A slice that would be deleted is rewritten instead of creating another.
      const recycled = spare.shift();
      if (recycled) plan.update.push(withContent(recycled, w, meta));
      else plan.create.push(withContent(undefined, w, meta));
      continue;
    }
    const next = withContent(w.slice, w, meta);
    if (!sameContent(w.slice, next)) plan.update.push(next);
  }
  plan.delete.push(...spare);
  return plan;
}

/** Places a group's endpoints into the slices with the same ports; returns the slices it ends up using. */
function fillGroup(
  group: EndpointGroup,
  slices: EndpointSlice[],
  max: number,
  spare: EndpointSlice[],
): Working[] {
  const want = new Map(group.endpoints.map((e) => [endpointKey(e), e]));
  const used: Working[] = [];
  const placed = new Set<string>();
  for (const s of slices) {
    const eps: SliceEndpoint[] = [];
    let changed = false;
    for (const e of s.endpoints ?? []) {
      const k = endpointKey(e);
      const d = want.get(k);
      if (!d || placed.has(k) || eps.length >= max) {
        changed = true;
        continue;
      }
      placed.add(k);
      if (canonicalJsonOf(d) !== canonicalJsonOf(e)) changed = true;
      eps.push(d);
    }
    if (eps.length === 0) spare.push(s);
    else used.push({ slice: s, endpoints: eps, ports: group.ports, changed });
  }
  const rest = [...want.entries()]
    .filter(([k]) => !placed.has(k))
    .map(([, e]) => e)
    .sort((a, b) => (a.addresses[0] ?? '').localeCompare(b.addresses[0] ?? ''));
  // Slices being rewritten anyway first, then the unchanged one with most room.
  const order = [
    ...used.filter((w) => w.changed),
    ...used.filter((w) => !w.changed).sort((a, b) => a.endpoints.length - b.endpoints.length),
  ];
  for (const w of order) {
    while (rest.length > 0 && w.endpoints.length < max) {
      const e = rest.shift();
      if (e) w.endpoints.push(e);
      w.changed = true;
    }
  }
  while (rest.length > 0) {
    const eps = rest.splice(0, max);
    used.push({ endpoints: eps, ports: group.ports, changed: true });
  }
  return used;
}

function newSlice(meta: PlanInput['meta']): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: meta.namespace, generateName: meta.generateName },
    addressType: 'IPv4',
    endpoints: [],
    ports: [],
  };
}

/** `base` (a stored slice, or a new one) with the working content, labels and owner. */
function withContent(base: EndpointSlice | undefined, w: Working, meta: PlanInput['meta']): EndpointSlice {
  const b = base ?? newSlice(meta);
  return {
    ...b,
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...b.metadata, labels: { ...meta.labels }, ownerReferences: [meta.owner] },
    addressType: 'IPv4',
    endpoints: w.endpoints,
    ports: w.ports,
  };
}
