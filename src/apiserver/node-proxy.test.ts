import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { builtinTypes } from '../api/kinds/index.ts';
import type { KubeObject } from '../api/types.ts';
import { silentLogger } from '../lib/logger.ts';
import { MemoryStore } from '../storage/memory.ts';
import type { SubresourceRequest } from './extensions.ts';
import { kubeletAddress, nodeSubresources } from './node-proxy.ts';
import { ObjectStore } from './object-store.ts';
import { TypeRegistry } from './type-registry.ts';

const types = new TypeRegistry(builtinTypes());
const objects = new ObjectStore(new MemoryStore(), []);
const pods = types.lookup('', 'v1', 'pods')!;
const nodes = types.lookup('', 'v1', 'nodes')!;
const pod = (name: string, nodeName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});
const node = (name: string, status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  status,
});

test('kubeletAddress: InternalIP and the kubelet endpoint port, or nothing', () => {
  const full = node('a', {
    addresses: [
      { type: 'Hostname', address: 'a' },
      { type: 'InternalIP', address: '10.0.0.2' },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
  });
  assert.deepEqual(kubeletAddress(full), { host: '10.0.0.2', port: 10250 });
  assert.equal(
    kubeletAddress(node('b', { addresses: [{ type: 'InternalIP', address: '10.0.0.3' }] })),
    undefined,
  );
  assert.equal(kubeletAddress(node('c', { daemonEndpoints: { kubeletEndpoint: { Port: 1 } } })), undefined);
});

test('pods on the local node are served in-process; unbound pods and unreachable nodes are errors', async () => {
  await objects.create(pods, pod('here', 'local'));
  await objects.create(pods, pod('nowhere'));
  await objects.create(pods, pod('far', 'gone'));
  await objects.create(nodes, node('gone', { addresses: [] }));
  const served: string[] = [];
  const handlers = nodeSubresources({
    objects,
    types,
    localNode: 'local',
    local: {
      http: {
        'pods/log': async (r) => {
          served.push(`log ${r.name}`);
        },
      },
      upgrade: {
        'pods/portforward': async (r) => {
          served.push(`portforward ${r.name}`);
        },
      },
    },
    tls: { cert: '', key: '', ca: '' },
    log: silentLogger(),
  });
  const req = (name: string) =>
    ({ name, namespace: 'default', url: new URL('https://x/'), req: {} }) as unknown as SubresourceRequest;
  const res = {} as ServerResponse;
  await handlers.http?.['pods/log']?.(req('here'), res);
  await handlers.upgrade?.['pods/portforward']?.(req('here'), new PassThrough(), Buffer.alloc(0));
  assert.deepEqual(served, ['log here', 'portforward here']);
  await assert.rejects(handlers.http!['pods/log']!(req('nowhere'), res), /does not have a host assigned/);
  await assert.rejects(
    handlers.http!['pods/log']!(req('far'), res),
    /node "gone" has no reachable kubelet endpoint/,
  );
  await assert.rejects(handlers.http!['pods/log']!(req('missing'), res), /not found/);
  // An upgrade that cannot be routed is answered on the socket, in HTTP.
  const socket = new PassThrough();
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString();
  });
  await handlers.upgrade!['pods/exec']!(req('nowhere'), socket, Buffer.alloc(0));
  assert.match(answer, /^HTTP\/1\.1 400 BadRequest\r\n[\s\S]*does not have a host assigned/);
});
