/**
 * Ingress and IngressClass validation with upstream's rules and messages
 * (k8s.io/kubernetes pkg/apis/networking/validation): paths, path types,
 * backends, hosts, TLS entries and the class name.
 */
import type { FieldError } from '../resource.ts';
import { asArray, getPath, isObject, type KubeObject } from '../types.ts';
import { immutable, invalid, notSupported, required, validateMeta, validateName } from '../validation.ts';

const supportedPathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const invalidPathSequences = ['//', '/./', '/../', '%2f', '%2F'];
const invalidPathSuffixes = ['/..', '/.'];
const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const wildcardMsg =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function validateHost(host: string, field: string): FieldError[] {
  const out: FieldError[] = [];
  if (host.includes('*')) {
    if (!host.startsWith('*.') || !subdomain.test(host.slice(2)) || host.length > 253)
      out.push(invalid(field, host, wildcardMsg));
  } else if (!subdomain.test(host) || host.length > 253) out.push(invalid(field, host, subdomainMsg));
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':'))
    out.push(invalid(field, host, 'must be a DNS name, not an IP address'));
  return out;
}

function validatePortName(name: string, field: string): FieldError[] {
  const msgs: string[] = [];
  if (name.length > 15) msgs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name))
    msgs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (name.includes('--')) msgs.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(name)) msgs.push('must contain at least one letter (a-z)');
  if (name.startsWith('-') || name.endsWith('-')) msgs.push('must not begin or end with a hyphen');
  return msgs.map((m) => invalid(field, name, m));
}

function validateBackend(backend: unknown, field: string): FieldError[] {
  const b = isObject(backend) ? backend : {};
  const svc = isObject(b.service) ? b.service : undefined;
  if (b.resource !== undefined && svc)
    return [invalid(field, '', 'cannot set both resource and service backends')];
  if (b.resource !== undefined) {
    const r = isObject(b.resource) ? b.resource : {};
    const out: FieldError[] = [];
    if (!r.kind) out.push(required(`${field}.resource.kind`));
    if (!r.name) out.push(required(`${field}.resource.name`));
    return out;
  }
  if (!svc) return [invalid(field, '', 'resource or service backend is required')];
  const out: FieldError[] = [];
  const name = typeof svc.name === 'string' ? svc.name : '';
  if (!name) out.push(required(`${field}.service.name`));
  else if (name.length > 63 || !dns1035.test(name))
    out.push(
      invalid(
        `${field}.service.name`,
        name,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      ),
    );
  const port = isObject(svc.port) ? svc.port : {};
  const portName = typeof port.name === 'string' ? port.name : '';
  const num = port.number;
  if (portName && num) out.push(invalid(field, '', 'cannot set both port name & port number'));
  else if (portName) out.push(...validatePortName(portName, `${field}.service.port.name`));
  else if (num !== undefined && num !== 0) {
    if (typeof num !== 'number' || !Number.isInteger(num) || num < 1 || num > 65535)
      out.push(invalid(`${field}.service.port.number`, num, 'must be between 1 and 65535, inclusive'));
  } else
    out.push({
      reason: 'FieldValueRequired',
      field,
      message: 'Required value: port name or number is required',
    });
  return out;
}

function validatePath(p: Record<string, unknown>, field: string): FieldError[] {
  const out: FieldError[] = [];
  const path = typeof p.path === 'string' ? p.path : '';
  if (p.pathType === undefined || p.pathType === null)
    return [
      {
        reason: 'FieldValueRequired',
        field: `${field}.pathType`,
        message: 'Required value: pathType must be specified',
      },
    ];
  if (p.pathType === 'Exact' || p.pathType === 'Prefix') {
    if (!path.startsWith('/')) out.push(invalid(`${field}.path`, path, 'must be an absolute path'));
    for (const seq of invalidPathSequences)
      if (path.includes(seq)) out.push(invalid(`${field}.path`, path, `must not contain '${seq}'`));
    for (const suf of invalidPathSuffixes)
      if (path.endsWith(suf)) out.push(invalid(`${field}.path`, path, `cannot end with '${suf}'`));
  } else if (p.pathType === 'ImplementationSpecific') {
    if (path.length > 0 && !path.startsWith('/'))
      out.push(invalid(`${field}.path`, path, 'must be an absolute path'));
  } else out.push(notSupported(`${field}.pathType`, p.pathType, supportedPathTypes));
  out.push(...validateBackend(p.backend, `${field}.backend`));
  return out;
}

/** `old` is set on update; the class annotation clash is checked on create only, as upstream. */
export function validateIngress(obj: KubeObject, old?: KubeObject): FieldError[] {
  const out = validateMeta(obj, 'subdomain');
  const spec = obj.spec ?? {};
  const rules = asArray(spec.rules);
  if (rules.length === 0 && spec.defaultBackend === undefined)
    out.push(invalid('spec', null, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend !== undefined)
    out.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((r, i) => {
    const f = `spec.rules[${i}]`;
    if (typeof r.host === 'string' && r.host !== '') out.push(...validateHost(r.host, `${f}.host`));
    if (r.http === undefined) return;
    const paths = asArray(getPath(r, ['http', 'paths']));
    if (paths.length === 0) out.push(required(`${f}.http.paths`));
    paths.forEach((p, j) => {
      out.push(...validatePath(p, `${f}.http.paths[${j}]`));
    });
  });
  asArray(spec.tls).forEach((t, i) => {
    asArray(t.hosts as unknown).forEach((_, j) => {
      const host = (t.hosts as unknown[])[j];
      if (typeof host === 'string') out.push(...validateHost(host, `spec.tls[${i}].hosts[${j}]`));
    });
    if (typeof t.secretName === 'string' && t.secretName !== '')
      out.push(...validateName(t.secretName, 'subdomain', `spec.tls[${i}].secretName`));
  });
  if (typeof spec.ingressClassName === 'string') {
    out.push(...validateName(spec.ingressClassName, 'subdomain', 'spec.ingressClassName'));
    if (!old && obj.metadata.annotations?.['kubernetes.io/ingress.class'] !== undefined)
      out.push(
        invalid(
          'annotations.kubernetes.io/ingress.class',
          obj.metadata.annotations['kubernetes.io/ingress.class'],
          'can not be set when the class field is also set',
        ),
      );
  }
  return out;
}

export function validateIngressClass(obj: KubeObject, old?: KubeObject): FieldError[] {
  const out = validateMeta(obj, 'subdomain');
  const controller = obj.spec?.controller;
  if (typeof controller !== 'string' || controller === '') out.push(required('spec.controller'));
  else if (controller.length > 250)
    out.push({
      reason: 'FieldValueTooLong',
      field: 'spec.controller',
      message: 'Too long: may not be more than 250 bytes',
    });
  else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/\S+$/.test(controller))
    out.push(
      invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")'),
    );
  if (old) out.push(...immutable(old.spec?.controller, controller, 'spec.controller'));
  return out;
}
