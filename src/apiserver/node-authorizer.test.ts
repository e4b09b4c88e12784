import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import type { Attributes } from './auth.ts';
import { nodeAuthorizer } from './node-authorizer.ts';

const pods: Record<string, KubeObject> = {
  'default/mine': { metadata: { name: 'mine', namespace: 'default' }, spec: { nodeName: 'n1' } },
  'default/theirs': { metadata: { name: 'theirs', namespace: 'default' }, spec: { nodeName: 'n2' } },
};
const authz = nodeAuthorizer(
  { authorize: () => ({ allowed: false, reason: 'inner' }) },
  { pod: async (ns, name) => pods[`${ns}/${name}`] },
);
const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const core = (verb: string, resource: string, rest: Partial<Attributes> = {}): Attributes => ({
  user: n1,
  verb,
  group: '',
  resource,
  ...rest,
});

const cases: { name: string; attrs: Attributes; allowed: boolean }[] = [
  { name: 'reads pods', attrs: core('list', 'pods'), allowed: true },
  {
    name: 'reads secrets',
    attrs: core('get', 'secrets', { namespace: 'default', name: 's' }),
    allowed: true,
  },
  { name: 'updates its node', attrs: core('update', 'nodes', { name: 'n1' }), allowed: true },
  {
    name: 'patches its node status',
    attrs: core('patch', 'nodes', { name: 'n1', subresource: 'status' }),
    allowed: true,
  },
  { name: 'creates a node', attrs: core('create', 'nodes'), allowed: true },
  { name: 'cannot patch another node', attrs: core('patch', 'nodes', { name: 'n2' }), allowed: false },
  { name: 'cannot delete another node', attrs: core('delete', 'nodes', { name: 'n2' }), allowed: false },
  {
    name: 'renews its lease',
    attrs: {
      user: n1,
      verb: 'update',
      group: 'coordination.k8s.io',
      resource: 'leases',
      namespace: 'kube-node-lease',
      name: 'n1',
    },
    allowed: true,
  },
  {
    name: "cannot renew another node's lease",
    attrs: {
      user: n1,
      verb: 'update',
      group: 'coordination.k8s.io',
      resource: 'leases',
      namespace: 'kube-node-lease',
      name: 'n2',
    },
    allowed: false,
  },
  {
    name: 'status of its pod',
    attrs: core('update', 'pods', { namespace: 'default', name: 'mine', subresource: 'status' }),
    allowed: true,
  },
  {
    name: "not the status of another node's pod",
    attrs: core('patch', 'pods', { namespace: 'default', name: 'theirs', subresource: 'status' }),
    allowed: false,
  },
  {
    name: 'deletes its pod',
    attrs: core('delete', 'pods', { namespace: 'default', name: 'mine' }),
    allowed: true,
  },
  {
    name: "not another node's pod",
    attrs: core('delete', 'pods', { namespace: 'default', name: 'theirs' }),
    allowed: false,
  },
  { name: 'cannot create pods', attrs: core('create', 'pods', { namespace: 'default' }), allowed: false },
  { name: 'records events', attrs: core('create', 'events', { namespace: 'default' }), allowed: true },
  {
    name: 'cannot write secrets',
    attrs: core('update', 'secrets', { namespace: 'default', name: 's' }),
    allowed: false,
  },
  {
    name: 'cannot exec',
    attrs: core('create', 'pods', { namespace: 'default', name: 'mine', subresource: 'exec' }),
    allowed: false,
  },
  {
    name: 'other users go to the inner authorizer',
    attrs: { user: { name: 'admin', groups: ['system:masters'] }, verb: 'get', resource: 'pods' },
    allowed: false,
  },
];

for (const tc of cases) {
  test(`node authorizer: ${tc.name}`, async () => {
    assert.equal((await authz.authorize(tc.attrs)).allowed, tc.allowed);
  });
}
