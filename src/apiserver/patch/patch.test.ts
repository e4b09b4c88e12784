import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyJsonPatch, applyMergePatch } from './json-patch.ts';
import { applyStrategicMergePatch } from './strategic-merge.ts';

const deployment = {
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1',
            ports: [{ containerPort: 80 }],
            env: [{ name: 'A', value: '1' }],
          },
          { name: 'side', image: 'busybox' },
        ],
      },
    },
  },
};

const smpCases: { name: string; patch: unknown; check: (out: typeof deployment) => void }[] = [
  {
    name: 'containers merge by name',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } } },
    check: (o) => {
      assert.equal(o.spec.template.spec.containers.length, 2);
      assert.equal(o.spec.template.spec.containers[0]?.image, 'nginx:2');
      assert.deepEqual(o.spec.template.spec.containers[0]?.ports, [{ containerPort: 80 }]);
    },
  },
  {
    name: '$patch: delete removes a keyed element',
    patch: { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } },
    check: (o) =>
      assert.deepEqual(
        o.spec.template.spec.containers.map((c) => c.name),
        ['nginx'],
      ),
  },
  {
    name: 'env merges by name and $setElementOrder orders',
    patch: {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'nginx', env: [{ name: 'B', value: '2' }] }],
            '$setElementOrder/containers': [{ name: 'side' }, { name: 'nginx' }],
          },
        },
      },
    },
    check: (o) => {
      assert.deepEqual(
        o.spec.template.spec.containers.map((c) => c.name),
        ['side', 'nginx'],
      );
      assert.deepEqual(
        o.spec.template.spec.containers[1]?.env?.map((e) => e.name),
        ['A', 'B'],
      );
    },
  },
  {
    name: 'null deletes a map key; finalizers merge as a set',
    patch: { metadata: { labels: { app: null, x: 'y' }, finalizers: ['b', 'a'] } },
    check: (o) => {
      assert.deepEqual(o.metadata.labels, { x: 'y' });
      assert.deepEqual(o.metadata.finalizers, ['a', 'b']);
    },
  },
];

for (const tc of smpCases) {
  test(`strategic merge: ${tc.name}`, () => {
    tc.check(applyStrategicMergePatch(deployment, tc.patch) as typeof deployment);
  });
}

test('merge patch replaces lists and deletes with null', () => {
  const out = applyMergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } });
  assert.deepEqual(out, { a: [3], b: { d: 2 } });
});

test('json patch ops and failures', () => {
  const out = applyJsonPatch({ a: [1, 2], b: 1 }, [
    { op: 'add', path: '/a/-', value: 3 },
    { op: 'replace', path: '/b', value: 2 },
    { op: 'remove', path: '/a/0' },
    { op: 'copy', from: '/b', path: '/c' },
    { op: 'test', path: '/c', value: 2 },
  ]);
  assert.deepEqual(out, { a: [2, 3], b: 2, c: 2 });
  assert.throws(() => applyJsonPatch({}, [{ op: 'remove', path: '/nope' }]), /not found/);
  assert.throws(
    () => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]),
    /test operation failed/,
  );
});
