import { listMergeKeys } from './managed-fields.ts';
import { isScalarMessage, messageFields } from './protobuf/decode.ts';

const packagePrefixes: Record<string, string> = {
  core: 'io.k8s.api.core.v1',
  apps: 'io.k8s.api.apps.v1',
  batch: 'io.k8s.api.batch.v1',
  rbac: 'io.k8s.api.rbac.v1',
  policy: 'io.k8s.api.policy.v1',
  networking: 'io.k8s.api.networking.v1',
  scheduling: 'io.k8s.api.scheduling.v1',
  authorization: 'io.k8s.api.authorization.v1',
  authentication: 'io.k8s.api.authentication.v1',
  meta: 'io.k8s.apimachinery.pkg.apis.meta.v1',
  autoscaling: 'io.k8s.api.autoscaling.v1',
  autoscalingv2: 'io.k8s.api.autoscaling.v2',
};

/** Upstream's schema id for a message (`core.PodSpec` → `io.k8s.api.core.v1.PodSpec`). */
export function schemaId(message: string): string {
  const [pkg = '', name = ''] = message.split('.');
  return `${packagePrefixes[pkg] ?? pkg}.${name}`;
}

function scalar(type: string): Record<string, unknown> | undefined {
  switch (type) {
    case 's':
    case 'meta.Duration':
      return { type: 'string' };
    case 'b':
      return { type: 'string', format: 'byte' };
    case 'i':
      return { type: 'integer', format: 'int64' };
    case 't':
      return { type: 'boolean' };
    case 'd':
    case 'f':
      return { type: 'number', format: 'double' };
    case 'meta.Time':
    case 'meta.MicroTime':
      return { type: 'string', format: 'date-time' };
    case 'resource.Quantity':
    case 'intstr.IntOrString':
      return { 'x-kubernetes-int-or-string': true };
    case 'meta.FieldsV1':
    case 'runtime.RawExtension':
      return { type: 'object' };
  }
  return undefined;
}

function mergeKey(message: string, field: string): string | undefined {
  if (message === 'core.ServiceSpec' && field === 'ports') return 'port';
  if (field === 'tolerations') return undefined;
  if (field === 'addresses' && message !== 'core.NodeStatus') return undefined;
  return listMergeKeys[field];
}

/**
 * OpenAPI v3 schemas for a built-in kind, derived from the same field tables
 * the protobuf decoder uses: every reachable message becomes a component, and
 * keyed lists carry the patch-merge-key extensions kubectl's client-side apply
 * reads. Returns the kind's own properties; `components` collects the rest.
 */
export function messageProperties(
  message: string,
  components: Record<string, unknown>,
): Record<string, unknown> {
  const fields = messageFields(message);
  const props: Record<string, unknown> = {};
  for (const [name, f] of fields ?? []) {
    let elem = scalar(f.type);
    if (!elem) {
      if (!messageFields(f.type) || isScalarMessage(f.type)) continue;
      const id = schemaId(f.type);
      if (!(id in components)) {
        components[id] = { type: 'object' };
        components[id] = { type: 'object', properties: messageProperties(f.type, components) };
      }
      elem = { allOf: [{ $ref: `#/components/schemas/${id}` }] };
    }
    if (f.map) props[name] = { type: 'object', additionalProperties: elem };
    else if (f.repeated) {
      const key = mergeKey(message, name);
      props[name] = {
        type: 'array',
        items: elem,
        ...(key
          ? {
              'x-kubernetes-patch-merge-key': key,
              'x-kubernetes-patch-strategy': name === 'volumes' ? 'merge,retainKeys' : 'merge',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': [key],
            }
          : name === 'finalizers'
            ? { 'x-kubernetes-patch-strategy': 'merge' }
            : {}),
      };
    } else props[name] = elem;
  }
  return props;
}
