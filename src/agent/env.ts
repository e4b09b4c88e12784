/**
 * A container's environment from its `env` and `envFrom`, as the kubelet
 * builds it: envFrom first (ConfigMaps and Secrets, with prefixes), then env
 * entries in order (value with $(VAR) expansion, or valueFrom fieldRef,
 * resourceFieldRef, configMapKeyRef, secretKeyRef). A missing non-optional
 * reference is a ConfigError: the container waits with
 * CreateContainerConfigError and the message upstream prints.
 */

import { parseQuantity } from '../api/quantity.ts';
import type { Pod } from '../client/index.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The ConfigMaps and Secrets the agent can read (undefined: not found). */
export interface ConfigSource {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Values decoded from base64. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

type Ref = { name?: string; key?: string; optional?: boolean };
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
    configMapKeyRef?: Ref;
    secretKeyRef?: Ref;
  };
}
interface EnvFrom {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}
export interface EnvContainer {
  name: string;
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface EnvContext {
  pod: Pod;
  podIP: string;
  hostIP: string;
  /** Node allocatable, for resourceFieldRef of a limit the container does not set. */
  allocatable: { cpu: string; memory: string };
  source: ConfigSource;
}

/** `$(VAR)` expands to an earlier variable; `$$(VAR)` stays literally `$(VAR)`; unknown ones stay as written. */
export function expand(value: string, vars: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) =>
    m === '$$' ? '$' : name !== undefined && vars.has(name) ? (vars.get(name) ?? '') : m,
  );
}

export async function containerEnv(c: EnvContainer, ctx: EnvContext): Promise<string[]> {
  const vars = new Map<string, string>();
  const ns = ctx.pod.metadata.namespace ?? 'default';
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    if (!ref?.name) continue;
    const data =
      kind === 'configmap' ? await ctx.source.configMap(ns, ref.name) : await ctx.source.secret(ns, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) vars.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) vars.set(e.name, await envValue(e, c, ctx, vars));
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

async function envValue(
  e: EnvVar,
  c: EnvContainer,
  ctx: EnvContext,
  vars: Map<string, string>,
): Promise<string> {
  const from = e.valueFrom;
  if (!from) return expand(e.value ?? '', vars);
  const ns = ctx.pod.metadata.namespace ?? 'default';
  if (from.fieldRef) return fieldValue(from.fieldRef.fieldPath, ctx);
  if (from.resourceFieldRef) return resourceValue(from.resourceFieldRef, c, ctx);
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  const kind = from.configMapKeyRef ? 'configmap' : 'secret';
  if (ref?.name && ref.key) {
    const data =
      kind === 'configmap' ? await ctx.source.configMap(ns, ref.name) : await ctx.source.secret(ns, ref.name);
    if (!data) {
      if (ref.optional) return '';
      throw new ConfigError(`${kind} "${ref.name}" not found`);
    }
    const v = data[ref.key];
    if (v === undefined) {
      if (ref.optional) return '';
      throw new ConfigError(
        `couldn't find key ${ref.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${ref.name}`,
      );
    }
    return v;
  }
  return '';
}

export function fieldValue(path: string, ctx: EnvContext): string {
  const { pod } = ctx;
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) {
    const map = (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations) ?? {};
    return map[m[2] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return String(pod.spec?.serviceAccountName ?? '');
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
    default:
      throw new ConfigError(`unsupported fieldRef ${path}`);
  }
}

export function resourceValue(
  ref: { containerName?: string; resource: string; divisor?: string },
  c: EnvContainer | undefined,
  ctx: EnvContext,
): string {
  const all = [
    ...(ctx.pod.spec?.containers ?? []),
    ...(ctx.pod.spec?.initContainers ?? []),
  ] as EnvContainer[];
  const target = ref.containerName ? all.find((x) => x.name === ref.containerName) : c;
  if (!target) throw new ConfigError(`resourceFieldRef: no container ${ref.containerName ?? 'named'}`);
  const [kind = '', res = ''] = ref.resource.split('.');
  const fallback = res === 'cpu' ? ctx.allocatable.cpu : res === 'memory' ? ctx.allocatable.memory : '0';
  const set = kind === 'limits' ? target.resources?.limits : target.resources?.requests;
  const raw = set?.[res] ?? (kind === 'limits' ? fallback : '0');
  const divisor = parseQuantity(ref.divisor ?? '1');
  // Upstream rounds up to the divisor (a 250m CPU limit is "1" with the default divisor).
  return String(Math.ceil(parseQuantity(raw) / (divisor === 0 ? 1 : divisor) - 1e-9));
}
