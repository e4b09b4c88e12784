import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from '../../api/kinds/index.ts';
import type { ResourceType } from '../../api/resource.ts';
import type { KubeObject } from '../../api/types.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import { MemoryStore } from '../../storage/memory.ts';
import { ObjectStore } from '../object-store.ts';
import { ResourceQuotaAdmission } from './resource-quota.ts';

const type = (plural: string): ResourceType => {
  const t = builtinTypes().find((x) => x.plural === plural && x.version !== 'v1beta1');
  if (!t) throw new Error(plural);
  return t;
};
const pods = type('pods');
const quotas = type('resourcequotas');
const configmaps = type('configmaps');

function setup(): ObjectStore {
  const objects: ObjectStore = new ObjectStore(new MemoryStore(), [
    new ResourceQuotaAdmission(() => objects, quotas),
  ]);
  return objects;
}

/** A quota as the controller leaves it: status.hard known, status.used as given. */
async function quota(objects: ObjectStore, hard: Record<string, string>, used: Record<string, string>) {
  await objects.create(quotas, { metadata: { name: 'q', namespace: 'team' }, spec: { hard } });
  await objects.update(quotas, 'team', 'q', (q) => ({ ...(q as KubeObject), status: { hard, used } }), {
    subresource: 'status',
  });
}

const pod = (name: string, resources: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'team' },
  spec: { containers: [{ name: 'app', image: 'busybox', resources }] },
});

const cases: {
  name: string;
  hard: Record<string, string>;
  used: Record<string, string>;
  pod: KubeObject;
  error?: string;
  usedAfter?: Record<string, string>;
}[] = [
  {
    name: 'a pod within quota is admitted and charged',
    hard: { pods: '2', 'requests.cpu': '1' },
    used: { pods: '1', 'requests.cpu': '500m' },
    pod: pod('p', { requests: { cpu: '250m' } }),
    usedAfter: { pods: '2', 'requests.cpu': '750m' },
  },
  {
    name: 'an oversized pod is refused with upstream message',
    hard: { 'requests.cpu': '1', 'requests.memory': '1Gi' },
    used: { 'requests.cpu': '500m', 'requests.memory': '0' },
    pod: pod('big', { requests: { cpu: '2', memory: '64Mi' } }),
    error:
      'pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=500m, limited: requests.cpu=1',
  },
  {
    name: 'the pod count is enforced',
    hard: { pods: '1' },
    used: { pods: '1' },
    pod: pod('p'),
    error: 'pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1',
  },
  {
    name: 'a pod that does not state a tracked resource is refused',
    hard: { 'limits.cpu': '2', 'limits.memory': '1Gi', pods: '5' },
    used: { 'limits.cpu': '0', 'limits.memory': '0', pods: '0' },
    pod: pod('p', { limits: { memory: '64Mi' } }),
    error: 'pods "p" is forbidden: failed quota: q: must specify limits.cpu for: app',
  },
  {
    name: 'usage missing from status counts from zero',
    hard: { pods: '5' },
    used: {},
    pod: pod('p'),
    usedAfter: { pods: '1' },
  },
];

for (const tc of cases) {
  test(`quota admission: ${tc.name}`, async () => {
    const objects = setup();
    await quota(objects, tc.hard, tc.used);
    const created = objects.create(pods, tc.pod);
    if (tc.error) {
      await assert.rejects(created, (err: Error) => {
        assert.ok(err instanceof ForbiddenError);
        assert.equal(err.message, tc.error);
        return true;
      });
    } else await created;
    const q = await objects.get(quotas, 'team', 'q');
    assert.deepEqual(q.status?.used, tc.usedAfter ?? tc.used);
  });
}

test('quota admission: status unknown refuses until the controller has synced', async () => {
  const objects = setup();
  await objects.create(quotas, { metadata: { name: 'q', namespace: 'team' }, spec: { hard: { pods: '5' } } });
  await assert.rejects(objects.create(pods, pod('p')), /status unknown for quota: q, resources: pods/);
  // Objects the quota does not count are not affected.
  await objects.create(configmaps, { metadata: { name: 'c', namespace: 'team' } });
});

test('quota admission: concurrent creates never pass the limit (compare-and-swap)', async () => {
  const objects = setup();
  await quota(objects, { pods: '5' }, { pods: '0' });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => objects.create(pods, pod(`p${i}`))),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
  assert.deepEqual((await objects.get(quotas, 'team', 'q')).status?.used, { pods: '5' });
});

test('quota admission: dry runs are checked but not charged', async () => {
  const objects = setup();
  await quota(objects, { pods: '1' }, { pods: '0' });
  await objects.create(pods, pod('p'), { dryRun: true });
  assert.deepEqual((await objects.get(quotas, 'team', 'q')).status?.used, { pods: '0' });
});
