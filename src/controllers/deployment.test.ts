import assert from 'node:assert/strict';
import test from 'node:test';
import type { Condition, Deployment, KubeObject, ReplicaSet, Resource } from '../client/index.ts';
import { resources } from '../client/index.ts';
import { newDeploymentController } from './deployment.ts';
import { podTemplateHash, revisionAnnotation } from './deployment-util.ts';
import { type FakeCluster, fakeCluster, start, writeLog } from './fake-cluster.ts';

const labels = { app: 'web' };
const tmpl = (image: string) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image }] } });
const at = (s: number) => new Date(start + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function deploy(
  image: string,
  spec: Record<string, unknown> = {},
  status?: Record<string, unknown>,
): Deployment {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: {
      replicas: 4,
      selector: { matchLabels: labels },
      template: tmpl(image),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/** A ReplicaSet the controller would have made for `image`, at `revision`, created `age` seconds before start. */
function rs(
  image: string,
  revision: number,
  replicas: number,
  o: { available?: number; age?: number; desired?: number } = {},
): ReplicaSet {
  const hash = podTemplateHash(tmpl(image));
  const t = tmpl(image);
  t.metadata.labels = { ...labels, 'pod-template-hash': hash } as typeof labels;
  const available = o.available ?? replicas;
  return {
    metadata: {
      name: `web-${hash}`,
      namespace: 'default',
      labels: t.metadata.labels,
      creationTimestamp: at(-(o.age ?? 0)),
      annotations: {
        [revisionAnnotation]: String(revision),
        'deployment.kubernetes.io/desired-replicas': String(o.desired ?? 4),
        'deployment.kubernetes.io/max-replicas': String((o.desired ?? 4) + 1),
      },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true },
      ],
    },
    spec: { replicas, selector: { matchLabels: { ...labels, 'pod-template-hash': hash } }, template: t },
    status: { replicas, readyReplicas: available, availableReplicas: available, observedGeneration: 1 },
  };
}

const D = (d: KubeObject): [Resource, KubeObject] => [resources.deployments, d];
const R = (r: KubeObject): [Resource, KubeObject] => [resources.replicaSets, r];

async function replicaSets(c: FakeCluster): Promise<ReplicaSet[]> {
  return (await c.client.list<ReplicaSet>(resources.replicaSets, { namespace: 'default' })).items;
}
const byImage = (rss: ReplicaSet[], image: string) =>
  rss.find((r) => r.spec?.template?.spec?.containers[0]?.image === image);
const cond = (d: Deployment | undefined, type: string) =>
  ((d?.status?.conditions ?? []) as Condition[]).find((c) => c.type === type);

interface Case {
  name: string;
  objects: [Resource, KubeObject][];
  want: string[];
  check?: (rss: ReplicaSet[], d: Deployment | undefined) => void;
}

const cases: Case[] = [
  {
    name: 'a new deployment gets revision 1: a ReplicaSet named by its template hash',
    objects: [D(deploy('busybox'))],
    want: [
      'create replicasets',
      'patch deployments web',
      'update deployments/status web',
      'update deployments/status web',
    ],
    check: (rss, d) => {
      const r = rss[0];
      assert.equal(r?.metadata.name, `web-${podTemplateHash(tmpl('busybox'))}`);
      assert.equal(r?.spec?.replicas, 4);
      assert.equal(
        r?.spec?.template?.metadata?.labels?.['pod-template-hash'],
        podTemplateHash(tmpl('busybox')),
      );
      assert.equal(r?.metadata.annotations?.[revisionAnnotation], '1');
      assert.equal(r?.metadata.ownerReferences?.[0]?.kind, 'Deployment');
      assert.equal(d?.metadata.annotations?.[revisionAnnotation], '1');
      assert.equal(cond(d, 'Progressing')?.reason, 'NewReplicaSetCreated');
      assert.equal(d?.status?.observedGeneration, 1);
    },
  },
  {
    name: 'a changed template surges the new ReplicaSet by maxSurge and scales the old one by maxUnavailable',
    objects: [D(deploy('busybox:2')), R(rs('busybox', 1, 4))],
    want: [
      'create replicasets',
      'patch deployments web',
      'update deployments/status web',
      `patch replicasets web-${podTemplateHash(tmpl('busybox'))}`,
      'update deployments/status web',
    ],
    check: (rss) => {
      assert.equal(byImage(rss, 'busybox:2')?.spec?.replicas, 1);
      assert.equal(byImage(rss, 'busybox:2')?.metadata.annotations?.[revisionAnnotation], '2');
      assert.equal(byImage(rss, 'busybox')?.spec?.replicas, 3);
    },
  },
  {
    name: 'a stale status right after a scale-down never lets availability drop below replicas - maxUnavailable',
    objects: [
      D(deploy('busybox:2', { replicas: 5 })),
      // Just scaled 5 -> 4; its status still counts the pod being deleted.
      R({
        ...rs('busybox', 1, 4, { age: 100, desired: 5 }),
        status: { replicas: 5, availableReplicas: 5, readyReplicas: 5 },
      }),
      R(rs('busybox:2', 2, 3, { available: 2, desired: 5 })),
    ],
    want: [
      `patch replicasets web-${podTemplateHash(tmpl('busybox'))}`,
      'patch deployments web',
      'update deployments/status web',
      'update deployments/status web',
    ],
    // minAvailable 4: 2 new available + 2 old left, not 1.
    check: (rss) => assert.equal(byImage(rss, 'busybox')?.spec?.replicas, 2),
  },
  {
    name: 'undo: the template of an old ReplicaSet re-uses it with the next revision',
    objects: [
      D(deploy('busybox')),
      R(rs('busybox', 1, 0, { age: 100 })),
      R(rs('busybox:2', 2, 4, { age: 50 })),
    ],
    // Bump the revision, then surge it by one (maxSurge of 4 is 1).
    want: [
      `patch replicasets web-${podTemplateHash(tmpl('busybox'))}`,
      `patch replicasets web-${podTemplateHash(tmpl('busybox'))}`,
      'update deployments/status web',
    ],
    check: (rss) => {
      assert.equal(byImage(rss, 'busybox')?.spec?.replicas, 1);
      assert.equal(byImage(rss, 'busybox')?.metadata.annotations?.[revisionAnnotation], '3');
      assert.equal(
        byImage(rss, 'busybox')?.metadata.annotations?.['deployment.kubernetes.io/revision-history'],
        '1',
      );
    },
  },
  {
    name: 'a scaling event resizes the only active ReplicaSet',
    objects: [D(deploy('busybox', { replicas: 6 })), R(rs('busybox', 1, 4))],
    want: [
      `patch replicasets web-${podTemplateHash(tmpl('busybox'))}`,
      'patch deployments web',
      'update deployments/status web',
      'update deployments/status web',
    ],
    check: (rss) => {
      assert.equal(rss[0]?.spec?.replicas, 6);
      assert.equal(rss[0]?.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '6');
    },
  },
  {
    name: 'a finished rollout is Available and Progressing NewReplicaSetAvailable',
    objects: [D(deploy('busybox')), R(rs('busybox', 1, 4))],
    want: ['patch deployments web', 'update deployments/status web', 'update deployments/status web'],
    check: (_, d) => {
      assert.equal(cond(d, 'Available')?.status, 'True');
      assert.equal(cond(d, 'Available')?.reason, 'MinimumReplicasAvailable');
      assert.equal(cond(d, 'Progressing')?.reason, 'NewReplicaSetAvailable');
      assert.deepEqual(
        [
          d?.status?.replicas,
          d?.status?.updatedReplicas,
          d?.status?.availableReplicas,
          d?.status?.unavailableReplicas,
        ],
        [4, 4, 4, 0],
      );
    },
  },
  {
    name: 'old ReplicaSets beyond revisionHistoryLimit are deleted once the rollout is complete',
    objects: [
      D(
        deploy(
          'busybox',
          { revisionHistoryLimit: 1 },
          {
            observedGeneration: 1,
            replicas: 4,
            updatedReplicas: 4,
            availableReplicas: 4,
            readyReplicas: 4,
          },
        ),
      ),
      R(rs('a', 1, 0, { age: 30 })),
      R(rs('b', 2, 0, { age: 20 })),
      R(rs('c', 3, 0, { age: 10 })),
      R(rs('busybox', 4, 4)),
    ],
    want: [
      `delete replicasets web-${podTemplateHash(tmpl('a'))}`,
      `delete replicasets web-${podTemplateHash(tmpl('b'))}`,
      'patch deployments web',
      'update deployments/status web',
      'update deployments/status web',
    ],
    check: (rss) =>
      assert.deepEqual(rss.map((r) => r.spec?.template?.spec?.containers[0]?.image).sort(), ['busybox', 'c']),
  },
  {
    name: 'Recreate scales the old ReplicaSet to zero before creating the new one',
    objects: [D(deploy('busybox:2', { strategy: { type: 'Recreate' } })), R(rs('busybox', 1, 4))],
    want: [`patch replicasets web-${podTemplateHash(tmpl('busybox'))}`, 'update deployments/status web'],
    check: (rss) => assert.equal(rss.length, 1),
  },
  {
    name: 'Recreate creates the new ReplicaSet at full size once old pods are gone',
    objects: [
      D(deploy('busybox:2', { strategy: { type: 'Recreate' } })),
      R({ ...rs('busybox', 1, 0), status: { replicas: 0, observedGeneration: 1 } }),
    ],
    want: [
      'create replicasets',
      'patch deployments web',
      'update deployments/status web',
      'update deployments/status web',
    ],
    check: (rss) => assert.equal(byImage(rss, 'busybox:2')?.spec?.replicas, 4),
  },
  {
    name: 'a paused deployment gets no new ReplicaSet and a DeploymentPaused condition',
    objects: [D(deploy('busybox:2', { paused: true })), R(rs('busybox', 1, 4))],
    want: ['update deployments/status web', 'update deployments/status web'],
    check: (rss, d) => {
      assert.equal(rss.length, 1);
      assert.equal(cond(d, 'Progressing')?.reason, 'DeploymentPaused');
    },
  },
  {
    name: 'a selector that does not match the template is not rolled out',
    objects: [
      D(
        deploy('busybox', {
          selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] },
        }),
      ),
    ],
    want: [],
    check: (rss) => assert.equal(rss.length, 0),
  },
  {
    name: "a ReplicaSet's ReplicaFailure shows on the deployment",
    objects: [
      D(deploy('busybox', {}, { observedGeneration: 1 })),
      R({
        ...rs('busybox', 1, 4, { available: 0 }),
        status: {
          replicas: 0,
          observedGeneration: 1,
          conditions: [
            {
              type: 'ReplicaFailure',
              status: 'True',
              reason: 'FailedCreate',
              message: 'forbidden: exceeded quota',
              lastTransitionTime: at(-5),
            },
          ],
        },
      }),
    ],
    want: ['patch deployments web', 'update deployments/status web', 'update deployments/status web'],
    check: (_, d) => {
      assert.equal(cond(d, 'ReplicaFailure')?.reason, 'FailedCreate');
      assert.equal(cond(d, 'ReplicaFailure')?.message, 'forbidden: exceeded quota');
    },
  },
  {
    name: 'no progress past progressDeadlineSeconds is ProgressDeadlineExceeded',
    objects: [
      D(
        deploy(
          'busybox:2',
          {
            replicas: 1,
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          },
          {
            observedGeneration: 1,
            replicas: 2,
            updatedReplicas: 1,
            readyReplicas: 1,
            availableReplicas: 1,
            unavailableReplicas: 1,
            conditions: [
              {
                type: 'Progressing',
                status: 'True',
                reason: 'ReplicaSetUpdated',
                lastUpdateTime: at(-700),
                lastTransitionTime: at(-700),
              },
            ],
          },
        ),
      ),
      R(rs('busybox', 1, 1, { age: 800, desired: 1 })),
      R(rs('busybox:2', 2, 1, { available: 0, desired: 1 })),
    ],
    want: ['patch deployments web', 'update deployments/status web'],
    check: (_, d) => {
      assert.equal(cond(d, 'Progressing')?.status, 'False');
      assert.equal(cond(d, 'Progressing')?.reason, 'ProgressDeadlineExceeded');
    },
  },
];

for (const tc of cases) {
  test(`deployment: ${tc.name}`, async () => {
    const c = await fakeCluster(newDeploymentController, tc.objects);
    try {
      await c.controller.reconcile('default/web');
      assert.deepEqual(
        writeLog(c.client)
          .filter((w) => !w.includes('events'))
          .sort(),
        [...tc.want].sort(),
      );
      tc.check?.(await replicaSets(c), c.client.peek<Deployment>(resources.deployments, 'default/web'));
    } finally {
      await c.stop();
    }
  });
}
