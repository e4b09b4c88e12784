import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from '../../api/kinds/index.ts';
import type { ResourceType } from '../../api/resource.ts';
import type { KubeObject } from '../../api/types.ts';
import { MemoryStore } from '../../storage/memory.ts';
import { ObjectStore } from '../object-store.ts';
import { DefaultStorageClass } from './default-storage-class.ts';

const type = (plural: string): ResourceType => {
  const t = builtinTypes().find((x) => x.plural === plural && x.version === 'v1');
  if (!t) throw new Error(plural);
  return t;
};
const classes = type('storageclasses');
const claims = type('persistentvolumeclaims');
const cls = (name: string, isDefault: boolean, created: string): KubeObject => ({
  metadata: {
    name,
    creationTimestamp: created,
    ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
  },
  provisioner: 'example.com/x',
});
const claim = (storageClassName?: string): KubeObject => ({
  metadata: { name: 'data', namespace: 'default' },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
    ...(storageClassName !== undefined ? { storageClassName } : {}),
  },
});

const cases: { name: string; classes: KubeObject[]; claim: KubeObject; want: string | undefined }[] = [
  {
    name: 'no class named: the default',
    classes: [cls('a', false, ''), cls('b', true, '')],
    claim: claim(),
    want: 'b',
  },
  { name: 'an explicit class stays', classes: [cls('b', true, '')], claim: claim('gold'), want: 'gold' },
  { name: 'an explicit "" means no class', classes: [cls('b', true, '')], claim: claim(''), want: '' },
  { name: 'no default: left unset', classes: [cls('a', false, '')], claim: claim(), want: undefined },
  {
    name: 'several defaults: the newest',
    classes: [cls('a-old', true, '2026-01-01T00:00:00Z'), cls('z-new', true, '2026-02-01T00:00:00Z')],
    claim: claim(),
    want: 'z-new',
  },
];

for (const tc of cases) {
  test(`DefaultStorageClass: ${tc.name}`, async () => {
    const store = new MemoryStore();
    const seed = new ObjectStore(store);
    // Written straight to the store: creationTimestamp is the test's, not the server's.
    for (const c of tc.classes)
      await store.create(seed.key(classes, undefined, c.metadata.name ?? ''), Buffer.from(JSON.stringify(c)));
    const objects: ObjectStore = new ObjectStore(store, [
      new DefaultStorageClass(() => objects, classes, claims),
    ]);
    const got = await objects.create(claims, structuredClone(tc.claim));
    assert.equal(got.spec?.storageClassName, tc.want);
  });
}
