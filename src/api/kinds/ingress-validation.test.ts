import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../types.ts';
import { validateIngress, validateIngressClass } from './ingress-validation.ts';

const backend = { service: { name: 'web', port: { number: 80 } } };
const ing = (spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
  metadata: { name: 'i', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec,
});
const withPath = (p: Record<string, unknown>) =>
  ing({ rules: [{ host: 'a.example.com', http: { paths: [p] } }] });

const cases: { name: string; obj: KubeObject; want: string[] }[] = [
  { name: 'valid', obj: withPath({ path: '/', pathType: 'Prefix', backend }), want: [] },
  {
    name: 'wildcard host and tls',
    obj: ing({
      rules: [{ host: '*.example.com', http: { paths: [{ path: '/a', pathType: 'Exact', backend }] } }],
      tls: [{ hosts: ['*.example.com'], secretName: 'tls' }],
    }),
    want: [],
  },
  {
    name: 'neither rules nor default backend',
    obj: ing({}),
    want: ['spec: Invalid value: null: either `defaultBackend` or `rules` must be specified'],
  },
  {
    name: 'relative Prefix path',
    obj: withPath({ path: 'foo', pathType: 'Prefix', backend }),
    want: ['spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path'],
  },
  {
    name: 'Exact path with //',
    obj: withPath({ path: '/a//b', pathType: 'Exact', backend }),
    want: ['spec.rules[0].http.paths[0].path: Invalid value: "/a//b": must not contain \'//\''],
  },
  {
    name: 'path ending in /..',
    obj: withPath({ path: '/a/..', pathType: 'Prefix', backend }),
    want: ['spec.rules[0].http.paths[0].path: Invalid value: "/a/..": cannot end with \'/..\''],
  },
  {
    name: 'ImplementationSpecific may be empty',
    obj: withPath({ pathType: 'ImplementationSpecific', backend }),
    want: [],
  },
  {
    name: 'unknown pathType',
    obj: withPath({ path: '/', pathType: 'Regex', backend }),
    want: [
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ],
  },
  {
    name: 'missing pathType',
    obj: withPath({ path: '/', backend }),
    want: ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'],
  },
  {
    name: 'missing backend',
    obj: withPath({ path: '/', pathType: 'Prefix' }),
    want: ['spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required'],
  },
  {
    name: 'backend without port',
    obj: withPath({ path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } }),
    want: ['spec.rules[0].http.paths[0].backend: Required value: port name or number is required'],
  },
  {
    name: 'port out of range',
    obj: ing({ defaultBackend: { service: { name: 'web', port: { number: 70000 } } } }),
    want: [
      'spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ],
  },
  {
    name: 'IP host',
    obj: ing({
      rules: [{ host: '10.0.0.1', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }],
    }),
    want: ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
  },
  {
    name: 'class field and annotation',
    obj: ing({ ingressClassName: 'drover', defaultBackend: backend }, { 'kubernetes.io/ingress.class': 'x' }),
    want: [
      'annotations.kubernetes.io/ingress.class: Invalid value: "x": can not be set when the class field is also set',
    ],
  },
];

for (const tc of cases) {
  test(`ingress: ${tc.name}`, () => {
    assert.deepEqual(
      validateIngress(tc.obj).map((e) => `${e.field}: ${e.message}`),
      tc.want,
    );
  });
}

test('ingress class: controller required, domain-prefixed and immutable', () => {
  const cls = (controller?: string): KubeObject => ({
    metadata: { name: 'c' },
    spec: controller ? { controller } : {},
  });
  assert.deepEqual(validateIngressClass(cls('drover.io/ingress')), []);
  assert.deepEqual(
    validateIngressClass(cls()).map((e) => e.field),
    ['spec.controller'],
  );
  assert.match(validateIngressClass(cls('nope'))[0]?.message ?? '', /domain-prefixed path/);
  assert.match(validateIngressClass(cls('a.io/x'), cls('b.io/y'))[0]?.message ?? '', /immutable/);
});
