import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheOf, filterReasons, node, pod } from '../fixtures.ts';
import { nodePorts, reason } from './node-ports.ts';

const withPort = (
  name: string,
  hostPort: number,
  o: { protocol?: string; hostIP?: string; nodeName?: string } = {},
) =>
  pod(name, {
    nodeName: o.nodeName,
    spec: {
      containers: [
        {
          name: 'c',
          ports: [{ containerPort: 80, hostPort, protocol: o.protocol, hostIP: o.hostIP } as never],
        },
      ],
    },
  });

const cases: { name: string; existing: number; p: ReturnType<typeof pod>; fits: boolean }[] = [
  { name: 'no host ports', existing: 8080, p: pod('p'), fits: true },
  { name: 'same port', existing: 8080, p: withPort('p', 8080), fits: false },
  { name: 'other port', existing: 8080, p: withPort('p', 8081), fits: true },
  {
    name: 'same port, other protocol',
    existing: 8080,
    p: withPort('p', 8080, { protocol: 'UDP' }),
    fits: true,
  },
  {
    name: 'specific address overlaps 0.0.0.0',
    existing: 8080,
    p: withPort('p', 8080, { hostIP: '10.0.0.1' }),
    fits: false,
  },
];

for (const tc of cases) {
  test(`NodePorts: ${tc.name}`, () => {
    const c = cacheOf([node('n')], [withPort('old', tc.existing, { nodeName: 'n' })]);
    assert.deepEqual(filterReasons(nodePorts, tc.p, c, 'n'), tc.fits ? undefined : [reason]);
  });
}
