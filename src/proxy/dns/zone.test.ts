import assert from 'node:assert/strict';
import test from 'node:test';
import { emptyCluster, sampleCluster, summary } from './fake-view.ts';
import { ClusterZone } from './zone.ts';

const zone = new ClusterZone({
  view: sampleCluster().view,
  domain: 'cluster.local',
  clusterDNS: '10.43.0.10',
});
const soa = ['SOA ns.dns.cluster.local'];

const cases: {
  name: string;
  q: string;
  type?: string;
  rcode?: string;
  answers?: string[];
  authorities?: string[];
  additionals?: string[];
  chase?: string;
}[] = [
  { name: 'kubernetes service', q: 'kubernetes.default.svc.cluster.local', answers: ['A 10.43.0.1'] },
  {
    name: 'trailing dot and mixed case',
    q: 'KuberNetes.Default.SVC.Cluster.Local.',
    answers: ['A 10.43.0.1'],
  },
  {
    name: 'AAAA of an IPv4-only service is NODATA',
    q: 'web.default.svc.cluster.local',
    type: 'AAAA',
    authorities: soa,
  },
  { name: 'MX of a service is NODATA', q: 'web.default.svc.cluster.local', type: 'MX', authorities: soa },
  { name: 'dual-stack A', q: 'dual.default.svc.cluster.local', answers: ['A 10.43.0.30'] },
  {
    name: 'dual-stack AAAA',
    q: 'dual.default.svc.cluster.local',
    type: 'AAAA',
    answers: ['AAAA fd00:43::30'],
  },
  { name: 'missing service', q: 'nope.default.svc.cluster.local', rcode: 'NXDOMAIN', authorities: soa },
  { name: 'missing namespace', q: 'web.nope.svc.cluster.local', rcode: 'NXDOMAIN', authorities: soa },
  { name: 'namespace with services', q: 'default.svc.cluster.local', authorities: soa },
  { name: 'empty namespace', q: 'other.svc.cluster.local', rcode: 'NXDOMAIN', authorities: soa },
  { name: 'svc apex', q: 'svc.cluster.local', authorities: soa },
  { name: 'zone apex SOA', q: 'cluster.local', type: 'SOA', answers: soa },
  { name: 'zone apex A is NODATA', q: 'cluster.local', authorities: soa },
  { name: 'unknown subtree', q: 'foo.cluster.local', rcode: 'NXDOMAIN', authorities: soa },
  { name: 'nameserver', q: 'ns.dns.cluster.local', answers: ['A 10.43.0.10'] },
  {
    name: 'headless: ready endpoints only',
    q: 'db.default.svc.cluster.local',
    answers: ['A 10.42.0.10', 'A 10.42.0.11'],
  },
  { name: 'StatefulSet pod by hostname', q: 'db-1.db.default.svc.cluster.local', answers: ['A 10.42.0.11'] },
  {
    name: 'not-ready hostname exists but has no address',
    q: 'db-2.db.default.svc.cluster.local',
    authorities: soa,
  },
  { name: 'unknown hostname', q: 'db-9.db.default.svc.cluster.local', rcode: 'NXDOMAIN', authorities: soa },
  { name: 'endpoint by dashed IP', q: '10-42-0-5.web.default.svc.cluster.local', answers: ['A 10.42.0.5'] },
  {
    name: 'SRV of a named port (ClusterIP)',
    q: '_http._tcp.web.default.svc.cluster.local',
    type: 'SRV',
    answers: ['SRV 80 web.default.svc.cluster.local'],
    additionals: ['A 10.43.0.20'],
  },
  {
    name: 'SRV of a UDP port',
    q: '_dns._udp.web.default.svc.cluster.local',
    type: 'SRV',
    answers: ['SRV 53 web.default.svc.cluster.local'],
    additionals: ['A 10.43.0.20'],
  },
  {
    name: 'SRV with the wrong protocol',
    q: '_http._udp.web.default.svc.cluster.local',
    type: 'SRV',
    rcode: 'NXDOMAIN',
    authorities: soa,
  },
  { name: 'A of an SRV name is NODATA', q: '_http._tcp.web.default.svc.cluster.local', authorities: soa },
  { name: 'protocol label alone is NODATA', q: '_tcp.web.default.svc.cluster.local', authorities: soa },
  {
    name: 'SRV of a headless service lists endpoints',
    q: '_pg._tcp.db.default.svc.cluster.local',
    type: 'SRV',
    answers: ['SRV 5432 db-0.db.default.svc.cluster.local', 'SRV 5432 db-1.db.default.svc.cluster.local'],
    additionals: ['A 10.42.0.10', 'A 10.42.0.11'],
  },
  {
    name: 'SRV of the service name lists every port',
    q: 'web.default.svc.cluster.local',
    type: 'SRV',
    answers: ['SRV 53 web.default.svc.cluster.local', 'SRV 80 web.default.svc.cluster.local'],
    additionals: ['A 10.43.0.20'],
  },
  {
    name: 'ExternalName is a CNAME to chase',
    q: 'ext.default.svc.cluster.local',
    answers: ['CNAME example.org'],
    chase: 'example.org',
  },
  {
    name: 'ExternalName CNAME query',
    q: 'ext.default.svc.cluster.local',
    type: 'CNAME',
    answers: ['CNAME example.org'],
  },
  { name: 'pod record', q: '10-42-0-40.default.pod.cluster.local', answers: ['A 10.42.0.40'] },
  {
    name: 'pod record in the wrong namespace',
    q: '10-42-0-40.other.pod.cluster.local',
    rcode: 'NXDOMAIN',
    authorities: soa,
  },
  {
    name: 'pod record of an unknown IP',
    q: '10-42-9-9.default.pod.cluster.local',
    rcode: 'NXDOMAIN',
    authorities: soa,
  },
  { name: 'pod record, not an IP', q: 'web.default.pod.cluster.local', rcode: 'NXDOMAIN', authorities: soa },
  {
    name: 'PTR of a cluster IP',
    q: '1.0.43.10.in-addr.arpa',
    type: 'PTR',
    answers: ['PTR kubernetes.default.svc.cluster.local'],
  },
  {
    name: 'PTR of a named endpoint',
    q: '10.0.42.10.in-addr.arpa',
    type: 'PTR',
    answers: ['PTR db-0.db.default.svc.cluster.local'],
  },
  {
    name: 'PTR of a pod',
    q: '5.0.42.10.in-addr.arpa',
    type: 'PTR',
    answers: ['PTR 10-42-0-5.default.pod.cluster.local'],
  },
  {
    name: 'PTR of an IPv6 cluster IP',
    q: '0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa',
    type: 'PTR',
    answers: ['PTR dual.default.svc.cluster.local'],
  },
];

for (const tc of cases)
  test(`zone: ${tc.name}`, () => {
    const a = zone.resolve(tc.q, tc.type ?? 'A');
    assert.ok(a, 'the zone answers');
    assert.equal(a.rcode, tc.rcode ?? 'NOERROR');
    assert.deepEqual(summary(a.answers), tc.answers ?? []);
    assert.deepEqual(summary(a.authorities), tc.authorities ?? []);
    assert.deepEqual(summary(a.additionals), tc.additionals ?? []);
    assert.equal(a.chase, tc.chase);
    for (const r of a.answers) assert.equal(r.name, tc.q.replace(/\.$/, ''), 'owner names echo the question');
  });

test('zone: names outside the zone and unknown reverse names are not ours', () => {
  for (const q of ['example.org', 'cluster.local.example.org', '9.9.9.9.in-addr.arpa', '43.10.in-addr.arpa'])
    assert.equal(zone.resolve(q, 'A'), undefined, q);
  assert.equal(zone.resolve('9.1.168.192.in-addr.arpa', 'PTR'), undefined, 'host-network pods have no PTR');
});

test('zone: SERVFAIL until the caches have synced', () => {
  let synced = false;
  const z = new ClusterZone({
    view: emptyCluster(() => synced).view,
    domain: 'cluster.local',
    clusterDNS: '10.43.0.10',
  });
  assert.equal(z.resolve('kubernetes.default.svc.cluster.local', 'A')?.rcode, 'SERVFAIL');
  synced = true;
  assert.equal(z.resolve('kubernetes.default.svc.cluster.local', 'A')?.rcode, 'NXDOMAIN');
});

test('zone: publishNotReadyAddresses includes not-ready endpoints', () => {
  const c = sampleCluster();
  const db = c.services.get('default/db');
  assert.ok(db?.spec);
  c.services.set({
    ...structuredClone(db),
    spec: { ...structuredClone(db.spec), publishNotReadyAddresses: true },
  });
  const z = new ClusterZone({ view: c.view, domain: 'cluster.local', clusterDNS: '10.43.0.10' });
  assert.deepEqual(summary(z.resolve('db.default.svc.cluster.local', 'A')?.answers ?? []), [
    'A 10.42.0.10',
    'A 10.42.0.11',
    'A 10.42.0.12',
  ]);
});

test('zone: another cluster domain', () => {
  const z = new ClusterZone({
    view: sampleCluster().view,
    domain: 'Corp.Example.',
    clusterDNS: '10.43.0.10',
  });
  assert.deepEqual(summary(z.resolve('web.default.svc.corp.example', 'A')?.answers ?? []), ['A 10.43.0.20']);
  assert.equal(z.resolve('web.default.svc.cluster.local', 'A'), undefined);
});

test('zone: <svc>.<ns> and <svc>.<ns>.svc complete to the Service, as the search list would', () => {
  const a = zone.completeShortName('Kubernetes.Default', 'A');
  assert.deepEqual(summary(a?.answers ?? []), ['A 10.43.0.1', 'CNAME kubernetes.default.svc.cluster.local']);
  assert.equal(a?.answers[0]?.name, 'Kubernetes.Default');
  const nodata = zone.completeShortName('web.default.svc', 'AAAA');
  assert.deepEqual(summary(nodata?.answers ?? []), ['CNAME web.default.svc.cluster.local']);
  assert.deepEqual(summary(nodata?.authorities ?? []), ['SOA ns.dns.cluster.local']);
  for (const q of ['example.org', 'nope.default', 'web.default.pod', 'a.web.default', 'web'])
    assert.equal(zone.completeShortName(q, 'A'), undefined, q);
});
