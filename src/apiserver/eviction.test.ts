import assert from 'node:assert/strict';
import test from 'node:test';
import { builtinTypes } from '../api/kinds/index.ts';
import type { KubeObject } from '../api/types.ts';
import { MemoryStore } from '../storage/memory.ts';
import { evictPod } from './eviction.ts';
import { ObjectStore } from './object-store.ts';
import type { RestContext } from './rest-context.ts';
import { ApiError } from './status.ts';
import { TypeRegistry } from './type-registry.ts';

const types = new TypeRegistry(builtinTypes());
const podType = types.lookup('', 'v1', 'pods');
const pdbType = types.lookup('policy', 'v1', 'poddisruptionbudgets');
if (!podType || !pdbType) throw new Error('types missing');

const pod = (phase: string, ready: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'ns', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const budget = (name: string, status: Record<string, unknown>, generation = 1): KubeObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name, namespace: 'ns', generation },
  spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
  status: { observedGeneration: 1, desiredHealthy: 2, currentHealthy: 3, expectedPods: 3, ...status },
});

interface Case {
  name: string;
  pod: KubeObject;
  budgets: KubeObject[];
  /** The error code, or 0 when the pod is evicted. */
  code: number;
  cause?: string;
  /** disruptionsAllowed afterwards (of the first budget). */
  allowed?: number;
}

const cases: Case[] = [
  { name: 'no budget: evicted', pod: pod('Running', true), budgets: [], code: 0 },
  {
    name: 'a budget allowing one: evicted and recorded',
    pod: pod('Running', true),
    budgets: [budget('b', { disruptionsAllowed: 1 })],
    code: 0,
    allowed: 0,
  },
  {
    name: 'a budget allowing none: 429 with the DisruptionBudget cause',
    pod: pod('Running', true),
    budgets: [budget('b', { disruptionsAllowed: 0, currentHealthy: 2 })],
    code: 429,
    cause: 'The disruption budget b needs 2 healthy pods and has 2 currently',
    allowed: 0,
  },
  {
    name: 'a budget not yet observed: 429 still being processed',
    pod: pod('Running', true),
    budgets: [budget('b', { disruptionsAllowed: 1 }, 2)],
    code: 429,
    cause: 'The disruption budget b is still being processed by the server.',
    allowed: 1,
  },
  {
    name: 'a pending pod ignores budgets',
    pod: pod('Pending', false),
    budgets: [budget('b', { disruptionsAllowed: 0 })],
    code: 0,
    allowed: 0,
  },
  {
    name: 'an unready pod under a healthy budget costs nothing',
    pod: pod('Running', false),
    budgets: [budget('b', { disruptionsAllowed: 1 })],
    code: 0,
    allowed: 1,
  },
  {
    name: 'two budgets: 500',
    pod: pod('Running', true),
    budgets: [budget('a', { disruptionsAllowed: 1 }), budget('b', { disruptionsAllowed: 1 })],
    code: 500,
    allowed: 1,
  },
];

for (const tc of cases) {
  test(`eviction: ${tc.name}`, async () => {
    const objects = new ObjectStore(new MemoryStore());
    await objects.create(podType, structuredClone(tc.pod));
    // Status is dropped on create: write it as a kubelet would.
    await objects.update(
      podType,
      'ns',
      'web-1',
      (cur) => ({ ...(cur as KubeObject), status: tc.pod.status }),
      {
        subresource: 'status',
      },
    );
    for (const b of tc.budgets) {
      const stored = await objects.create(pdbType, structuredClone(b));
      await objects.update(
        pdbType,
        'ns',
        stored.metadata.name ?? '',
        (cur) => ({ ...(cur as KubeObject), status: b.status }),
        {
          subresource: 'status',
        },
      );
      if (b.metadata.generation === 2)
        await objects.update(pdbType, 'ns', stored.metadata.name ?? '', (cur) => {
          const c = cur as KubeObject;
          return { ...c, spec: { ...(c.spec as object), minAvailable: 1 } };
        });
    }
    const ctx = {
      info: {
        prefix: 'api',
        group: '',
        version: 'v1',
        namespace: 'ns',
        resource: 'pods',
        name: 'web-1',
        verb: 'create',
      },
      type: podType,
      objects,
      types,
    } as unknown as RestContext;
    const err = await evictPod(ctx, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (tc.code === 0) {
      assert.equal(err, undefined);
      const gone = await objects.tryGet(podType, 'ns', 'web-1');
      assert.ok(!gone || gone.metadata.deletionTimestamp, 'pod deleted');
    } else {
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.code, tc.code);
      if (tc.code === 429)
        assert.equal(err.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      if (tc.cause)
        assert.deepEqual(err.details?.causes, [{ reason: 'DisruptionBudget', message: tc.cause }]);
      assert.ok(await objects.tryGet(podType, 'ns', 'web-1'), 'pod kept');
    }
    const first = tc.budgets[0];
    if (first && tc.allowed !== undefined) {
      const b = await objects.get(pdbType, 'ns', first.metadata.name ?? '');
      const status = b.status as { disruptionsAllowed?: number; disruptedPods?: Record<string, string> };
      assert.equal(status.disruptionsAllowed, tc.allowed);
      const recorded =
        tc.code === 0 &&
        tc.allowed < Number(first.status && (first.status as Record<string, unknown>).disruptionsAllowed);
      assert.equal(Boolean(status.disruptedPods?.['web-1']), recorded);
    }
  });
}
