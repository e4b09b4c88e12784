/** What a resource request addresses, parsed from its path (upstream's RequestInfo). */
export interface RequestInfo {
  /** `api` (core) or `apis`. */
  prefix: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  verb: string;
}

const namespaceSubresources = new Set(['status', 'finalize']);

/**
 * Parses `/api/v1/...` and `/apis/<group>/<version>/...` paths. Returns
 * undefined for paths that are not resource requests (discovery roots).
 */
export function parseRequestInfo(
  method: string,
  pathname: string,
  watchParam: boolean,
): RequestInfo | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let prefix: 'api' | 'apis';
  let group = '';
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    prefix = 'api';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    prefix = 'apis';
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else return undefined;
  const version = (prefix === 'api' ? parts[1] : parts[2]) ?? '';
  if (rest.length === 0) return undefined;
  const info: RequestInfo = { prefix, group, version, verb: '' };
  if (rest[0] === 'namespaces' && rest.length > 1) {
    info.namespace = rest[1];
    if (rest.length > 2 && !namespaceSubresources.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  info.resource = rest[0];
  info.name = rest[1];
  info.subresource = rest[2];
  if (rest.length > 3) return undefined;
  const hasName = info.name !== undefined;
  switch (method) {
    case 'GET':
    case 'HEAD':
      info.verb = hasName ? 'get' : watchParam ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = hasName ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  return info;
}
