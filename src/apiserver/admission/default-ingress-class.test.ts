import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from '../../api/kinds/index.ts';
import type { ResourceType } from '../../api/resource.ts';
import type { KubeObject } from '../../api/types.ts';
import { MemoryStore } from '../../storage/memory.ts';
import { ObjectStore } from '../object-store.ts';
import { DefaultIngressClass } from './default-ingress-class.ts';

const type = (plural: string): ResourceType => {
  const t = builtinTypes().find((x) => x.plural === plural && x.version === 'v1');
  if (!t) throw new Error(plural);
  return t;
};
const classes = type('ingressclasses');
const ingresses = type('ingresses');
const cls = (name: string, isDefault: boolean, created: string): KubeObject => ({
  metadata: {
    name,
    creationTimestamp: created,
    ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
  },
  spec: { controller: 'example.com/x' },
});
const ing = (className?: string, legacy?: string): KubeObject => ({
  metadata: {
    name: 'web',
    namespace: 'default',
    ...(legacy ? { annotations: { 'kubernetes.io/ingress.class': legacy } } : {}),
  },
  spec: {
    ...(className !== undefined ? { ingressClassName: className } : {}),
    defaultBackend: { service: { name: 'web', port: { number: 80 } } },
  },
});

const cases: { name: string; classes: KubeObject[]; ingress: KubeObject; want: string | undefined }[] = [
  {
    name: 'no class: the default',
    classes: [cls('a', false, ''), cls('drover', true, '')],
    ingress: ing(),
    want: 'drover',
  },
  {
    name: 'an explicit class stays',
    classes: [cls('drover', true, '')],
    ingress: ing('other'),
    want: 'other',
  },
  {
    name: 'the legacy annotation stays alone',
    classes: [cls('drover', true, '')],
    ingress: ing(undefined, 'x'),
    want: undefined,
  },
  { name: 'no default: left unset', classes: [cls('a', false, '')], ingress: ing(), want: undefined },
  {
    name: 'several defaults: the newest',
    classes: [cls('a-old', true, '2026-01-01T00:00:00Z'), cls('z-new', true, '2026-02-01T00:00:00Z')],
    ingress: ing(),
    want: 'z-new',
  },
];

for (const tc of cases) {
  test(`DefaultIngressClass: ${tc.name}`, async () => {
    const store = new MemoryStore();
    const seed = new ObjectStore(store);
    for (const c of tc.classes)
      await store.create(seed.key(classes, undefined, c.metadata.name ?? ''), Buffer.from(JSON.stringify(c)));
    const objects: ObjectStore = new ObjectStore(store, [
      new DefaultIngressClass(() => objects, classes, ingresses),
    ]);
    const got = await objects.create(ingresses, structuredClone(tc.ingress));
    assert.equal(got.spec?.ingressClassName, tc.want);
  });
}
