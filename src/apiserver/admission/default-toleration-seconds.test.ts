import assert from 'node:assert/strict';
import test from 'node:test';
import type { ResourceType } from '../../api/resource.ts';
import type { KubeObject } from '../../api/types.ts';
import { DefaultTolerationSeconds } from './default-toleration-seconds.ts';

const podType = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true } as ResourceType;

const cases: { name: string; tolerations: unknown[]; want: unknown[] }[] = [
  {
    name: 'a pod without tolerations gets both, 300 s',
    tolerations: [],
    want: [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ],
  },
  {
    name: 'its own unreachable toleration is kept, not-ready is added',
    tolerations: [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 2,
      },
    ],
    want: [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 2,
      },
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ],
  },
  {
    name: 'a tolerate-everything pod is left alone',
    tolerations: [{ operator: 'Exists' }],
    want: [{ operator: 'Exists' }],
  },
];

for (const tc of cases) {
  test(`DefaultTolerationSeconds: ${tc.name}`, async () => {
    const obj = {
      metadata: { name: 'p' },
      spec: { containers: [], tolerations: tc.tolerations },
    } as KubeObject;
    await new DefaultTolerationSeconds().admit({ operation: 'CREATE', type: podType, obj, dryRun: false });
    assert.deepEqual((obj.spec as { tolerations: unknown[] }).tolerations, tc.want);
  });
}

test('DefaultTolerationSeconds: configurable, and updates are left alone', async () => {
  const obj = { metadata: { name: 'p' }, spec: { containers: [] } } as KubeObject;
  const a = new DefaultTolerationSeconds({ notReadySeconds: 5, unreachableSeconds: 7 });
  await a.admit({ operation: 'UPDATE', type: podType, obj, dryRun: false });
  assert.equal((obj.spec as { tolerations?: unknown[] }).tolerations, undefined);
  await a.admit({ operation: 'CREATE', type: podType, obj, dryRun: false });
  const secs = (obj.spec as { tolerations: { tolerationSeconds: number }[] }).tolerations.map(
    (t) => t.tolerationSeconds,
  );
  assert.deepEqual(secs, [5, 7]);
});
