import type { FieldError } from '../resource.ts';
import { asArray, type KubeObject } from '../types.ts';
import {
  forbidden,
  invalid,
  notSupported,
  required,
  validateLabels,
  validateMeta,
  validateName,
} from '../validation.ts';

/**
 * Service validation with upstream's fields and messages (pkg/apis/core/
 * validation ValidateService and ValidateServiceUpdate). Address and node
 * port allocation (ranges, "already allocated") is admission's, in
 * apiserver/admission/service-allocator.ts.
 */

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const portRange = 'must be between 1 and 65535, inclusive';

const duplicate = (field: string, value: string): FieldError => ({
  reason: 'FieldValueDuplicate',
  field,
  message: `Duplicate value: ${value}`,
});

const validPort = (n: unknown): boolean =>
  typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

/** IsValidPortName: an IANA service name. */
export function portNameProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length < 1 || name.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name))
    out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)');
  if (name.includes('--')) out.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

const isIP = (s: string) => isIPv4(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));

/** Go's %#v of the core.ServicePort key upstream reports duplicates with. */
const goPortKey = (protocol: string, port: unknown) =>
  `core.ServicePort{Name:"", Protocol:"${protocol}", AppProtocol:(*string)(nil), Port:${String(port)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;

function validatePorts(spec: Record<string, unknown>, type: string): FieldError[] {
  const out: FieldError[] = [];
  const ports = asArray(spec.ports);
  const names = new Set<string>();
  const keys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    const name = typeof p.name === 'string' ? p.name : '';
    if (ports.length > 1 && name === '') out.push(required(`${f}.name`));
    else if (name !== '') out.push(...validateName(name, 'label', `${f}.name`));
    if (name !== '' && names.has(name)) out.push(duplicate(`${f}.name`, JSON.stringify(name)));
    names.add(name);
    if (!validPort(p.port)) out.push(invalid(`${f}.port`, p.port ?? 0, portRange));
    const protocol = String(p.protocol ?? '');
    if (protocol === '') out.push(required(`${f}.protocol`));
    else if (!protocols.includes(protocol)) out.push(notSupported(`${f}.protocol`, protocol, protocols));
    const target = p.targetPort;
    if (typeof target === 'number' && !validPort(target))
      out.push(invalid(`${f}.targetPort`, target, portRange));
    if (typeof target === 'string')
      for (const msg of portNameProblems(target)) out.push(invalid(`${f}.targetPort`, target, msg));
    const key = `${protocol}/${String(p.port)}`;
    if (keys.has(key)) out.push(duplicate(f, goPortKey(protocol, p.port)));
    keys.add(key);
    const np = p.nodePort;
    if (np === undefined || np === 0) return;
    if (type === 'ClusterIP')
      out.push(forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
    else if (typeof np !== 'number' || np < 30000 || np > 32767)
      out.push(
        invalid(
          `${f}.nodePort`,
          np,
          'provided port is not in the valid range. The range of valid ports is 30000-32767',
        ),
      );
    const npKey = `${protocol}/${String(np)}`;
    if (nodePorts.has(npKey)) out.push(duplicate(`${f}.nodePort`, String(np)));
    nodePorts.add(npKey);
  });
  return out;
}

function validateClusterIp(spec: Record<string, unknown>, type: string): FieldError[] {
  const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  const ips = (Array.isArray(spec.clusterIPs) ? spec.clusterIPs : []).filter((x) => x !== '');
  if (type === 'ExternalName') {
    if (ip !== '' || ips.length > 0)
      return [forbidden('spec.clusterIPs', 'may not be set for ExternalName services')];
    return [];
  }
  if (ip === '') return [];
  if (ip === 'None') {
    if (type !== 'ClusterIP')
      return [invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`)];
    return [];
  }
  if (!isIP(ip))
    return [
      invalid('spec.clusterIPs[0]', ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
    ];
  if (ips.length > 0 && ips[0] !== ip)
    return [invalid('spec.clusterIPs', ips, 'element [0] must match clusterIP')];
  return [];
}

function validatePolicies(spec: Record<string, unknown>, type: string): FieldError[] {
  const out: FieldError[] = [];
  const affinity = spec.sessionAffinity;
  if (affinity !== undefined && affinity !== 'None' && affinity !== 'ClientIP')
    out.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  const config = spec.sessionAffinityConfig as { clientIP?: { timeoutSeconds?: unknown } } | undefined;
  if (affinity === 'None' && config)
    out.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  const timeout = config?.clientIP?.timeoutSeconds;
  if (timeout !== undefined && (typeof timeout !== 'number' || timeout <= 0 || timeout > 86400))
    out.push(
      invalid(
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        timeout,
        'must be greater than 0 and less than 86400',
      ),
    );
  const etp = spec.externalTrafficPolicy;
  if (etp !== undefined && etp !== '') {
    if (type !== 'NodePort' && type !== 'LoadBalancer')
      out.push(
        invalid(
          'spec.externalTrafficPolicy',
          etp,
          "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
        ),
      );
    else if (etp !== 'Cluster' && etp !== 'Local')
      out.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  }
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== 'Cluster' && itp !== 'Local')
    out.push(notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  return out;
}

export function validateService(obj: KubeObject, old?: KubeObject): FieldError[] {
  const out = validateMeta(obj, 'label');
  const spec = obj.spec ?? {};
  const type = String(spec.type ?? 'ClusterIP');
  if (!serviceTypes.includes(type)) out.push(notSupported('spec.type', type, serviceTypes));
  if (asArray(spec.ports).length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None')
    out.push(required('spec.ports'));
  if (type === 'ExternalName') {
    const name = String(spec.externalName ?? '').replace(/\.$/, '');
    if (name === '') out.push(required('spec.externalName'));
    else out.push(...validateName(name, 'subdomain', 'spec.externalName'));
  }
  out.push(...validatePorts(spec, type));
  out.push(...validateClusterIp(spec, type));
  out.push(...validatePolicies(spec, type));
  out.push(...validateLabels(spec.selector, 'spec.selector'));
  (Array.isArray(spec.externalIPs) ? (spec.externalIPs as unknown[]) : []).forEach((ip, i) => {
    if (typeof ip !== 'string' || !isIP(ip))
      out.push(
        invalid(
          `spec.externalIPs[${i}]`,
          ip,
          'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
        ),
      );
  });
  if (old) out.push(...validateServiceUpdate(obj, old));
  return out;
}

/** A cluster IP may not change once set, unless the Service becomes or stops being ExternalName. */
function validateServiceUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const spec = obj.spec ?? {};
  const oldSpec = old.spec ?? {};
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  const was = typeof oldSpec.clusterIP === 'string' ? oldSpec.clusterIP : '';
  const now = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  if (was !== '' && now !== '' && was !== now)
    return [invalid('spec.clusterIPs[0]', now, 'may not change once set')];
  return [];
}

/**
 * Upstream's dropTypeDependentFields: on a type change, fields the new type
 * cannot have are cleared when the client left them as they were (so `kubectl
 * edit` from NodePort to ClusterIP needs no hand-removal of node ports).
 */
export function dropTypeDependentFields(obj: KubeObject, old: KubeObject): void {
  const spec = obj.spec ?? {};
  const oldSpec = old.spec ?? {};
  // Affinity turned off: the timeout left from ClientIP goes with it.
  if (
    spec.sessionAffinity === 'None' &&
    oldSpec.sessionAffinity === 'ClientIP' &&
    JSON.stringify(spec.sessionAffinityConfig) === JSON.stringify(oldSpec.sessionAffinityConfig)
  )
    delete spec.sessionAffinityConfig;
  if (spec.type === oldSpec.type) return;
  if (spec.type === 'ExternalName') {
    if (spec.clusterIP === oldSpec.clusterIP) delete spec.clusterIP;
    if (JSON.stringify(spec.clusterIPs) === JSON.stringify(oldSpec.clusterIPs)) delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
    delete spec.internalTrafficPolicy;
  }
  if (spec.type === 'ClusterIP' || spec.type === 'ExternalName') {
    const oldNodePorts = new Set(asArray(oldSpec.ports).map((p) => p.nodePort));
    for (const p of asArray(spec.ports)) if (oldNodePorts.has(p.nodePort)) delete p.nodePort;
    if (spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
    delete spec.healthCheckNodePort;
  }
  if (spec.type !== 'LoadBalancer') delete spec.allocateLoadBalancerNodePorts;
}
