import { apiVersionOf, type ResourceType, standardVerbs } from '../api/resource.ts';
import type { TypeRegistry } from './type-registry.ts';

function verbsOf(t: ResourceType): string[] {
  return t.verbs ?? standardVerbs;
}

interface SubresourceInfo {
  name: string;
  kind: string;
  group: string;
  version: string;
  verbs: string[];
}

function subresources(t: ResourceType): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  if (t.statusSubresource)
    out.push({
      name: 'status',
      kind: t.kind,
      group: t.group,
      version: t.version,
      verbs: ['get', 'patch', 'update'],
    });
  if (t.scale)
    out.push({
      name: 'scale',
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
  for (const s of t.extraSubresources ?? []) {
    out.push({
      name: s.name,
      kind: s.kind,
      group: s.group ?? t.group,
      version: s.version ?? t.version,
      verbs: s.verbs,
    });
  }
  return out;
}

/** Legacy APIResourceList for one group-version (`/api/v1`, `/apis/<g>/<v>`). */
export function resourceList(types: TypeRegistry, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const t of types.all()) {
    if (t.group !== group || t.version !== version) continue;
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: verbsOf(t),
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    for (const s of subresources(t)) {
      resources.push({
        name: `${t.plural}/${s.name}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(s.group !== t.group || s.version !== t.version ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}

function groupInfo(name: string, versions: string[]) {
  const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(types: TypeRegistry): Record<string, unknown> {
  const groups = [...types.groups()].filter(([g]) => g !== '').map(([g, vs]) => groupInfo(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(types: TypeRegistry, group: string): Record<string, unknown> | undefined {
  const versions = types.groups().get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupInfo(group, versions) };
}

/** Aggregated discovery (apidiscovery.k8s.io/v2): core only for `/api`, the rest for `/apis`. */
export function aggregated(types: TypeRegistry, core: boolean): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  for (const [group, versions] of types.groups()) {
    if ((group === '') !== core) continue;
    items.push({
      metadata: { name: group },
      versions: versions.map((version) => ({
        version,
        freshness: 'Current',
        resources: types
          .all()
          .filter((t) => t.group === group && t.version === version)
          .map((t) => ({
            resource: t.plural,
            singularResource: t.singular,
            scope: t.namespaced ? 'Namespaced' : 'Cluster',
            responseKind: { group: t.group, version: t.version, kind: t.kind },
            verbs: verbsOf(t),
            ...(t.shortNames ? { shortNames: t.shortNames } : {}),
            ...(t.categories ? { categories: t.categories } : {}),
            subresources: subresources(t).map((s) => ({
              subresource: s.name,
              responseKind: { group: s.group, version: s.version, kind: s.kind },
              verbs: s.verbs,
            })),
          })),
      })),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
