import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from '../../api/kinds/index.ts';
import type { ResourceType } from '../../api/resource.ts';
import { asArray, type KubeObject } from '../../api/types.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import { MemoryStore } from '../../storage/memory.ts';
import { ObjectStore } from '../object-store.ts';
import { applyDefaults, claimViolations, LimitRanger, limitItems, podViolations } from './limit-ranger.ts';

const range = (...limits: Record<string, unknown>[]): KubeObject => ({
  metadata: { name: 'lr', namespace: 'team' },
  spec: { limits },
});
const pod = (...resources: Record<string, unknown>[]): KubeObject => ({
  metadata: { name: 'p', namespace: 'team' },
  spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: 'busybox', resources: r })) },
});

const defaultCases: { name: string; range: KubeObject; pod: KubeObject; want: unknown }[] = [
  {
    name: 'default and defaultRequest fill what is missing',
    range: range({
      type: 'Container',
      default: { cpu: '500m', memory: '128Mi' },
      defaultRequest: { cpu: '100m' },
    }),
    pod: pod({}),
    want: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
  },
  {
    name: 'stated values are kept; a stated limit is its own request',
    range: range({ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } }),
    pod: pod({ limits: { cpu: '2' } }),
    want: { limits: { cpu: '2' }, requests: { cpu: '2' } },
  },
  {
    name: 'max stands in for a missing default, min for a missing request',
    range: range({ type: 'Container', max: { memory: '1Gi' }, min: { cpu: '50m' } }),
    pod: pod({}),
    want: { limits: { memory: '1Gi' }, requests: { memory: '1Gi', cpu: '50m' } },
  },
  {
    name: 'Pod items give no defaults',
    range: range({ type: 'Pod', max: { cpu: '2' } }),
    pod: pod({}),
    want: {},
  },
];

for (const tc of defaultCases) {
  test(`limitranger defaults: ${tc.name}`, () => {
    const p = structuredClone(tc.pod);
    applyDefaults(p, limitItems(tc.range));
    const c = asArray(p.spec?.containers)[0];
    assert.deepEqual(c?.resources, tc.want);
  });
}

const violationCases: { name: string; range: KubeObject; pod: KubeObject; want: string[] }[] = [
  {
    name: 'container max limit',
    range: range({ type: 'Container', max: { cpu: '1' } }),
    pod: pod({ limits: { cpu: '2' }, requests: { cpu: '1' } }),
    want: ['maximum cpu usage per Container is 1, but limit is 2'],
  },
  {
    name: 'container min request',
    range: range({ type: 'Container', min: { memory: '64Mi' } }),
    pod: pod({ requests: { memory: '32Mi' } }),
    want: ['minimum memory usage per Container is 64Mi, but request is 32Mi'],
  },
  {
    name: 'container without a limit under a max',
    range: range({ type: 'Container', max: { cpu: '1' } }),
    pod: pod({}),
    want: ['maximum cpu usage per Container is 1.  No limit is specified'],
  },
  {
    name: 'limit to request ratio',
    range: range({ type: 'Container', maxLimitRequestRatio: { cpu: '2' } }),
    pod: pod({ limits: { cpu: '1' }, requests: { cpu: '250m' } }),
    want: ['cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000'],
  },
  {
    name: 'pod max sums its containers',
    range: range({ type: 'Pod', max: { cpu: '1' } }),
    pod: pod({ limits: { cpu: '600m' } }, { limits: { cpu: '600m' } }),
    want: ['maximum cpu usage per Pod is 1, but limit is 1200m'],
  },
  {
    name: 'within every bound',
    range: range({
      type: 'Container',
      min: { cpu: '100m' },
      max: { cpu: '1' },
      maxLimitRequestRatio: { cpu: '4' },
    }),
    pod: pod({ limits: { cpu: '500m' }, requests: { cpu: '200m' } }),
    want: [],
  },
];

for (const tc of violationCases) {
  test(`limitranger checks: ${tc.name}`, () => {
    assert.deepEqual(podViolations(tc.pod, limitItems(tc.range)), tc.want);
  });
}

test('limitranger checks: claim storage min and max', () => {
  const items = limitItems(
    range({ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '2Gi' } }),
  );
  const claim = (storage: string): KubeObject => ({
    metadata: { name: 'v', namespace: 'team' },
    spec: { resources: { requests: { storage } } },
  });
  assert.deepEqual(claimViolations(claim('5Gi'), items), [
    'maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi',
  ]);
  assert.deepEqual(claimViolations(claim('500Mi'), items), [
    'minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
  ]);
  assert.deepEqual(claimViolations(claim('1Gi'), items), []);
});

test('limitranger admission: defaults a created pod, refuses one past max with 403', async () => {
  const type = (plural: string): ResourceType => {
    const t = builtinTypes().find((x) => x.plural === plural && x.version !== 'v1beta1');
    if (!t) throw new Error(plural);
    return t;
  };
  const limitranges = type('limitranges');
  const objects: ObjectStore = new ObjectStore(new MemoryStore(), [
    new LimitRanger(() => objects, limitranges),
  ]);
  await objects.create(
    limitranges,
    range({ type: 'Container', default: { cpu: '500m' }, max: { cpu: '1' } }),
  );
  const created = await objects.create(type('pods'), pod({}));
  assert.deepEqual(asArray(created.spec?.containers)[0]?.resources, {
    limits: { cpu: '500m' },
    requests: { cpu: '500m' },
  });
  await assert.rejects(
    objects.create(type('pods'), {
      ...pod({ limits: { cpu: '3' } }),
      metadata: { name: 'q', namespace: 'team' },
    }),
    (err: Error) =>
      err instanceof ForbiddenError &&
      err.message === 'pods "q" is forbidden: maximum cpu usage per Container is 1, but limit is 3',
  );
});
