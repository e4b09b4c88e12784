import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceType } from '../api/resource.ts';
import { messageProperties } from './openapi-schemas.ts';
import { messageName } from './protobuf/decode.ts';
import type { TypeRegistry } from './type-registry.ts';

const groupPackages: Record<string, string> = {
  '': 'io.k8s.api.core',
  apps: 'io.k8s.api.apps',
  batch: 'io.k8s.api.batch',
  autoscaling: 'io.k8s.api.autoscaling',
  policy: 'io.k8s.api.policy',
};

/** Upstream-style schema name, e.g. `io.k8s.api.apps.v1.Deployment`. */
function schemaName(t: ResourceType): string {
  const pkg =
    groupPackages[t.group] ??
    (t.group.endsWith('.k8s.io')
      ? `io.k8s.api.${t.group.split('.')[0]}`
      : t.group.split('.').reverse().join('.'));
  return `${pkg}.${t.version}.${t.kind}`;
}

const objectMeta = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function kindSchema(t: ResourceType, components: Record<string, unknown>): Record<string, unknown> {
  const gvk = [{ group: t.group, version: t.version, kind: t.kind }];
  const message = t.schema ? undefined : messageName(t.group, t.kind, t.version);
  const base: Record<string, unknown> = t.schema
    ? structuredClone(t.schema)
    : message
      ? { type: 'object', properties: messageProperties(message, components) }
      : {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              description: `Spec of the ${t.kind}.`,
              'x-kubernetes-preserve-unknown-fields': true,
            },
            status: {
              type: 'object',
              description: `Most recently observed status of the ${t.kind}.`,
              'x-kubernetes-preserve-unknown-fields': true,
            },
          },
        };
  const props = (base.properties ?? {}) as Record<string, unknown>;
  base.properties = {
    ...props,
    apiVersion: {
      type: 'string',
      description: 'APIVersion defines the versioned schema of this representation of an object.',
    },
    kind: {
      type: 'string',
      description: 'Kind is a string value representing the REST resource this object represents.',
    },
    metadata: {
      allOf: [{ $ref: `#/components/schemas/${objectMeta}` }],
      default: {},
      description: "Standard object's metadata.",
    },
  };
  base.description ??= `${t.kind} (${apiVersionOf(t)}).`;
  base['x-kubernetes-group-version-kind'] = gvk;
  return base;
}

function paths(t: ResourceType): Record<string, unknown> {
  const root = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  const item = `${root}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`;
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
  const body = { content: { 'application/json': { schema: ref } } };
  const params = [
    { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
  ];
  const op = (action: string, extra: Record<string, unknown> = {}) => ({
    operationId: `${action}${t.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    responses: { '200': body },
    ...extra,
  });
  if (t.createOnly) {
    return { [`${root}/${t.plural}`]: { post: op('post', { parameters: params, requestBody: body }) } };
  }
  return {
    [item]: {
      get: op('get'),
      put: op('put', { parameters: params, requestBody: body }),
      patch: op('patch', {
        parameters: [
          ...params,
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } },
      }),
      delete: op('delete'),
    },
  };
}

/** OpenAPI v3 documents generated from the type registry, cached per registry generation. */
export class OpenApi {
  readonly #types: TypeRegistry;
  #generation = -1;
  #docs = new Map<string, { body: string; hash: string }>();

  constructor(types: TypeRegistry) {
    this.#types = types;
  }

  #refresh(): void {
    if (this.#generation === this.#types.generation) return;
    this.#docs = new Map();
    for (const [group, versions] of this.#types.groups()) {
      for (const version of versions) {
        const types = this.#types.all().filter((t) => t.group === group && t.version === version);
        const components: Record<string, unknown> = {};
        components[objectMeta] = {
          type: 'object',
          properties: messageProperties('meta.ObjectMeta', components),
        };
        for (const t of types) kindSchema(t, components);
        const doc = {
          openapi: '3.0.0',
          info: { title: 'Kubernetes', version: 'v1.32.4' },
          paths: Object.assign({}, ...types.map(paths)),
          components: {
            schemas: {
              ...components,
              ...Object.fromEntries(types.map((t) => [schemaName(t), kindSchema(t, components)])),
            },
          },
        };
        const body = JSON.stringify(doc);
        const hash = createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase();
        this.#docs.set(group === '' ? `api/${version}` : `apis/${group}/${version}`, { body, hash });
      }
    }
    this.#generation = this.#types.generation;
  }

  index(): Record<string, unknown> {
    this.#refresh();
    const paths: Record<string, unknown> = {};
    for (const [p, d] of this.#docs) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` };
    return { paths };
  }

  document(path: string): { body: string; hash: string } | undefined {
    this.#refresh();
    return this.#docs.get(path);
  }
}
