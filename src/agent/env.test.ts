import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../client/index.ts';
import { ConfigError, type ConfigSource, containerEnv, expand } from './env.ts';

const source: ConfigSource = {
  configMap: async (_ns, name) => (name === 'cm' ? { a: '1', b: '2' } : undefined),
  secret: async (_ns, name) => (name === 'sec' ? { password: 's3cret' } : undefined),
};
const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'prod', uid: 'u1', labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { limits: { memory: '64Mi' } } }] },
};
const ctx = {
  pod,
  podIP: '10.42.0.9',
  hostIP: '192.0.2.1',
  allocatable: { cpu: '2', memory: '1Gi' },
  source,
};

test('env: envFrom first, then env in order with $(VAR) expansion and every valueFrom kind', async () => {
  const env = await containerEnv(
    {
      name: 'c',
      resources: { limits: { memory: '64Mi' } },
      envFrom: [{ configMapRef: { name: 'cm' } }, { prefix: 'S_', secretRef: { name: 'sec' } }],
      env: [
        { name: 'GREETING', value: 'hi $(a) $$(a) $(nope)' },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'b' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'gone', key: 'x', optional: true } } },
      ],
    },
    ctx,
  );
  assert.deepEqual(env, [
    'a=1',
    'b=2',
    'S_password=s3cret',
    'GREETING=hi 1 $(a) $(nope)',
    'NAME=web',
    'APP=web',
    'IP=10.42.0.9',
    'NODE=n1',
    'MEM=64',
    'CPU=2',
    'B=2',
    'PW=s3cret',
    'OPT=',
  ]);
});

const bad = [
  {
    name: 'missing configmap',
    env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'a' } } }],
    msg: /configmap "gone" not found/,
  },
  {
    name: 'missing key',
    env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'zz' } } }],
    msg: /couldn't find key zz in ConfigMap prod\/cm/,
  },
  {
    name: 'missing secret',
    env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'a' } } }],
    msg: /secret "gone" not found/,
  },
];
for (const tc of bad) {
  test(`env: ${tc.name} is a config error`, async () => {
    await assert.rejects(
      containerEnv({ name: 'c', env: tc.env }, ctx),
      (e: unknown) => e instanceof ConfigError && tc.msg.test(e.message),
    );
  });
}

test('expand leaves unknown references and unescapes $$', () => {
  assert.equal(expand('$(A)-$(B)-$$(A)', new Map([['A', 'x']])), 'x-$(B)-$(A)');
});
