import assert from 'node:assert/strict';
import test from 'node:test';
import type { Workload } from '../client/index.ts';
import {
  type ControllerRevision,
  equalRevisions,
  newRevision,
  nextRevisionNumber,
  revisionsToPrune,
  templateOfRevision,
} from './controller-revision.ts';

const owner = (image: string, annotations?: Record<string, string>): Workload => ({
  metadata: { name: 'db', namespace: 'ns', uid: 'u1', ...(annotations ? { annotations } : {}) },
  spec: { template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image }] } } },
});
const rev = (image: string, revision: number, collisionCount?: number) =>
  newRevision({ owner: owner(image), apiVersion: 'apps/v1', kind: 'StatefulSet', revision, collisionCount });
const named = (name: string, revision: number): ControllerRevision => ({ metadata: { name }, revision });

test('controller-revision: a revision records the template as a replacing patch, labelled and owned', () => {
  const r = newRevision({
    owner: owner('busybox:1', {
      'kubernetes.io/change-cause': 'kubectl set image',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    }),
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    revision: 4,
  });
  const hash = r.metadata.labels?.['controller.kubernetes.io/hash'] ?? '';
  assert.equal(r.metadata.name, `db-${hash}`);
  assert.equal(r.metadata.labels?.app, 'db', 'the owner selector finds its revisions');
  assert.equal(r.revision, 4);
  assert.deepEqual(r.metadata.annotations, { 'kubernetes.io/change-cause': 'kubectl set image' });
  assert.deepEqual(
    r.metadata.ownerReferences?.map((o) => [o.kind, o.uid, o.controller]),
    [['StatefulSet', 'u1', true]],
  );
  assert.equal((r.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
  assert.deepEqual(templateOfRevision(r), owner('busybox:1').spec?.template);
});

const cases: {
  name: string;
  a: ControllerRevision;
  b: ControllerRevision;
  equal: boolean;
  sameName: boolean;
}[] = [
  { name: 'same template, other number', a: rev('x', 1), b: rev('x', 7), equal: true, sameName: true },
  { name: 'other template', a: rev('x', 1), b: rev('y', 1), equal: false, sameName: false },
  {
    name: 'a collision count changes the name only',
    a: rev('x', 1),
    b: rev('x', 1, 1),
    equal: true,
    sameName: false,
  },
];
for (const tc of cases) {
  test(`controller-revision: ${tc.name}`, () => {
    assert.equal(equalRevisions(tc.a, tc.b), tc.equal);
    assert.equal(tc.a.metadata.name === tc.b.metadata.name, tc.sameName);
  });
}

test('controller-revision: next number and what to prune', () => {
  const revs = [named('a', 1), named('b', 2), named('c', 3), named('d', 5)];
  assert.equal(nextRevisionNumber(revs), 6);
  assert.equal(nextRevisionNumber([]), 1);
  const names = (rs: ControllerRevision[]) => rs.map((r) => r.metadata.name);
  assert.deepEqual(names(revisionsToPrune(revs, new Set(['d']), 1)), ['a', 'b']);
  assert.deepEqual(names(revisionsToPrune(revs, new Set(['a', 'd']), 1)), ['b']);
  assert.deepEqual(names(revisionsToPrune(revs, new Set(['d']), 10)), []);
  assert.deepEqual(names(revisionsToPrune(revs, new Set(), 0)), ['a', 'b', 'c', 'd']);
});
