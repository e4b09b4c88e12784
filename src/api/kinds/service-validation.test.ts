import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../types.ts';
import { dropTypeDependentFields, validateService } from './service-validation.ts';

const svc = (spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { type: 'ClusterIP', selector: { app: 'web' }, ...spec },
});
const port = (p: Record<string, unknown>) => ({ protocol: 'TCP', targetPort: 8080, ...p });

interface Case {
  name: string;
  obj: KubeObject;
  old?: KubeObject;
  /** `field: message` of each error, in order. */
  want: string[];
}

const cases: Case[] = [
  { name: 'a valid Service', obj: svc({ ports: [port({ port: 80 })] }), want: [] },
  {
    name: 'a selector matching nothing is fine; a malformed one is not',
    obj: svc({ ports: [port({ port: 80 })], selector: { 'bad key!': 'x' } }),
    want: [
      `spec.selector: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    ],
  },
  {
    name: 'port out of range',
    obj: svc({ ports: [port({ port: 70000 })] }),
    want: ['spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'],
  },
  {
    name: 'targetPort out of range or a bad name',
    obj: svc({
      ports: [port({ name: 'a', port: 80, targetPort: 0 }), port({ name: 'b', port: 81, targetPort: 'x_y' })],
    }),
    want: [
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].targetPort: Invalid value: "x_y": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ],
  },
  {
    name: 'duplicate port and protocol',
    obj: svc({ ports: [port({ name: 'a', port: 80 }), port({ name: 'b', port: 80 })] }),
    want: [
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ],
  },
  {
    name: 'the same port over TCP and UDP is fine',
    obj: svc({ ports: [port({ name: 'a', port: 53 }), port({ name: 'b', port: 53, protocol: 'UDP' })] }),
    want: [],
  },
  {
    name: 'duplicate names; names missing with several ports',
    obj: svc({ ports: [port({ name: 'a', port: 80 }), port({ name: 'a', port: 81 }), port({ port: 82 })] }),
    want: ['spec.ports[1].name: Duplicate value: "a"', 'spec.ports[2].name: Required value'],
  },
  {
    name: 'unsupported protocol',
    obj: svc({ ports: [port({ port: 80, protocol: 'HTTP' })] }),
    want: ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
  },
  {
    name: 'nodePort out of range, duplicated, or on a ClusterIP Service',
    obj: svc({
      type: 'NodePort',
      ports: [port({ name: 'a', port: 80, nodePort: 40000 }), port({ name: 'b', port: 81, nodePort: 40000 })],
    }),
    want: [
      'spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
      'spec.ports[1].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
      'spec.ports[1].nodePort: Duplicate value: 40000',
    ],
  },
  {
    name: 'nodePort on a ClusterIP Service',
    obj: svc({ ports: [port({ port: 80, nodePort: 30080 })] }),
    want: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  },
  {
    name: 'a malformed clusterIP; None on a NodePort Service',
    obj: svc({ type: 'NodePort', clusterIP: 'None', ports: [port({ port: 80 })] }),
    want: ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
  },
  {
    name: 'a clusterIP that is no address',
    obj: svc({ clusterIP: '10.43.0.300', ports: [port({ port: 80 })] }),
    want: [
      'spec.clusterIPs[0]: Invalid value: "10.43.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  },
  {
    name: 'ExternalName: a bad name, a cluster IP',
    obj: svc({ type: 'ExternalName', externalName: 'Bad_Name', clusterIP: '10.43.0.5' }),
    want: [
      `spec.externalName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
    ],
  },
  {
    name: 'ExternalName without a name',
    obj: svc({ type: 'ExternalName' }),
    want: ['spec.externalName: Required value'],
  },
  {
    name: 'externalTrafficPolicy on a ClusterIP Service; unknown affinity',
    obj: svc({ ports: [port({ port: 80 })], externalTrafficPolicy: 'Local', sessionAffinity: 'Cookie' }),
    want: [
      'spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"',
      "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set when `type` is 'NodePort' or 'LoadBalancer'",
    ],
  },
  {
    name: 'an affinity timeout without ClientIP affinity, or out of range',
    obj: svc({
      ports: [port({ port: 80 })],
      sessionAffinity: 'None',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 90000 } },
    }),
    want: [
      'spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None',
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 90000: must be greater than 0 and less than 86400',
    ],
  },
  {
    name: 'externalIPs must be addresses',
    obj: svc({ ports: [port({ port: 80 })], externalIPs: ['192.0.2.9', 'web.example.com'] }),
    want: [
      'spec.externalIPs[1]: Invalid value: "web.example.com": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  },
  {
    name: 'a cluster IP may not change',
    obj: svc({ clusterIP: '10.43.0.9', ports: [port({ port: 80 })] }),
    old: svc({ clusterIP: '10.43.0.8', ports: [port({ port: 80 })] }),
    want: ['spec.clusterIPs[0]: Invalid value: "10.43.0.9": may not change once set'],
  },
  {
    name: 'to and from ExternalName the cluster IP may change',
    obj: svc({ type: 'ExternalName', externalName: 'example.com' }),
    old: svc({ clusterIP: '10.43.0.8', ports: [port({ port: 80 })] }),
    want: [],
  },
];

for (const tc of cases)
  test(`service validation: ${tc.name}`, () => {
    const got = validateService(tc.obj, tc.old).map((e) => `${e.field}: ${e.message}`);
    assert.deepEqual(got, tc.want);
  });

test('service: a type change drops the fields the new type cannot have, if left as they were', () => {
  const old = svc({
    type: 'NodePort',
    clusterIP: '10.43.0.8',
    clusterIPs: ['10.43.0.8'],
    externalTrafficPolicy: 'Cluster',
    ports: [port({ port: 80, nodePort: 30080 })],
  });
  const toClusterIp = structuredClone(old);
  (toClusterIp.spec as Record<string, unknown>).type = 'ClusterIP';
  dropTypeDependentFields(toClusterIp, old);
  assert.deepEqual(validateService(toClusterIp, old), []);
  assert.equal(toClusterIp.spec?.externalTrafficPolicy, undefined);
  const toExternal = structuredClone(old);
  Object.assign(toExternal.spec ?? {}, { type: 'ExternalName', externalName: 'example.com' });
  dropTypeDependentFields(toExternal, old);
  assert.deepEqual(validateService(toExternal, old), []);
  assert.equal(toExternal.spec?.clusterIP, undefined);
});
