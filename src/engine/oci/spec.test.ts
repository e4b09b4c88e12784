import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import { allCapabilities, defaultCapabilities } from './capabilities.ts';
import type { HostInfo } from './host.ts';
import type { OciSpec } from './oci-spec.ts';
import { buildSpec, type SpecOptions } from './spec.ts';

const host: HostInfo = {
  rlimits: new Map([
    ['RLIMIT_NOFILE', { soft: 20000, hard: 20000 }],
    ['RLIMIT_NPROC', { soft: 1000, hard: 5000 }],
  ]),
  bounding: allCapabilities.filter((c) => c !== 'CAP_SYS_RESOURCE'),
  swapLimit: true,
};

const base: SpecOptions = { rootfs: '/r', args: ['sh'], host };

interface Case {
  name: string;
  opts: Partial<SpecOptions>;
  want: (s: OciSpec) => void;
}

const mount = (s: OciSpec, dest: string) => s.mounts.find((m) => m.destination === dest);
const nsTypes = (s: OciSpec) => s.linux.namespaces.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));

const cases: Case[] = [
  {
    name: 'defaults: docker caps, namespaces, masked paths, NOFILE clamped, seccomp deny-list',
    opts: {},
    want: (s) => {
      assert.deepEqual(new Set(s.process.capabilities?.bounding), new Set(defaultCapabilities));
      assert.deepEqual(nsTypes(s), ['pid', 'network', 'ipc', 'uts', 'mount']);
      assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
      assert.ok(s.linux.readonlyPaths?.includes('/proc/sys'));
      assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
      assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ALLOW');
      assert.ok(s.linux.seccomp?.syscalls?.[0]?.names.includes('mount'));
      assert.equal(s.process.cwd, '/');
      assert.equal(s.process.env[0], 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      assert.deepEqual(mount(s, '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'ro']);
      assert.ok(mount(s, '/dev/shm')?.options?.includes(`size=${64 * 1024 * 1024}`));
      assert.equal(s.process.noNewPrivileges, false);
      assert.equal(s.root.readonly, false);
    },
  },
  {
    name: 'namespaces: host, join by path',
    opts: { namespaces: { network: 'host', ipc: { path: '/proc/42/ns/ipc' }, uts: 'host' }, hostname: 'h' },
    want: (s) => {
      assert.deepEqual(nsTypes(s), ['pid', 'ipc=/proc/42/ns/ipc', 'mount']);
      assert.equal(s.hostname, undefined);
      assert.equal(mount(s, '/sys')?.type, 'bind');
    },
  },
  {
    name: 'privileged: all caps within the bounding set, no masks, no seccomp, all devices, rw sys',
    opts: { privileged: true },
    want: (s) => {
      assert.equal(s.process.capabilities?.bounding.length, allCapabilities.length - 1);
      assert.ok(!s.process.capabilities?.bounding.includes('CAP_SYS_RESOURCE'));
      assert.deepEqual(s.linux.maskedPaths, []);
      assert.deepEqual(s.linux.readonlyPaths, []);
      assert.equal(s.linux.seccomp, undefined);
      assert.deepEqual(s.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
      assert.ok(!mount(s, '/sys')?.options?.includes('ro'));
    },
  },
  {
    name: 'cap add/drop with and without prefix; seccomp follows the caps',
    opts: { capAdd: ['net_admin', 'CAP_SYS_ADMIN'], capDrop: ['chown', 'CAP_KILL'] },
    want: (s) => {
      const caps = s.process.capabilities?.bounding ?? [];
      assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_ADMIN'));
      assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_KILL'));
      assert.ok(!s.linux.seccomp?.syscalls?.[0]?.names.includes('mount'));
    },
  },
  {
    name: 'cap-drop ALL then add one',
    opts: { capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] },
    want: (s) => assert.deepEqual(s.process.capabilities?.bounding, ['CAP_NET_BIND_SERVICE']),
  },
  {
    name: 'non-root user: no effective caps, groups kept, HOME',
    opts: { user: { uid: 1000, gid: 1000, additionalGids: [10] }, home: '/home/app' },
    want: (s) => {
      assert.ok(s.process.env.includes('HOME=/home/app'));
      assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [10] });
      assert.deepEqual(s.process.capabilities?.effective, []);
      assert.ok((s.process.capabilities?.bounding.length ?? 0) > 0);
    },
  },
  {
    name: 'resources: memory with default swap, nano cpus, cpuset, pids',
    opts: {
      resources: { memory: 32 << 20, nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0', pidsLimit: 100 },
    },
    want: (s) => {
      assert.deepEqual(s.linux.resources?.memory, { limit: 32 << 20, swap: 64 << 20 });
      assert.deepEqual(s.linux.resources?.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0' });
      assert.deepEqual(s.linux.resources?.pids, { limit: 100 });
    },
  },
  {
    name: 'resources: unlimited swap, reservation, explicit quota',
    opts: {
      resources: { memory: 100, memorySwap: -1, memoryReservation: 50, cpuQuota: 5000, cpuPeriod: 10000 },
    },
    want: (s) => {
      assert.deepEqual(s.linux.resources?.memory, { limit: 100, swap: -1, reservation: 50 });
      assert.deepEqual(s.linux.resources?.cpu, { period: 10000, quota: 5000 });
    },
  },
  {
    name: 'rlimits: requested values clamped to the daemon hard limit, names normalised',
    opts: {
      rlimits: [
        { type: 'nproc', soft: 100, hard: 10000 },
        { type: 'NOFILE', soft: 1024, hard: 4096 },
      ],
    },
    want: (s) =>
      assert.deepEqual(s.process.rlimits, [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_NPROC', soft: 100, hard: 5000 },
      ]),
  },
  {
    name: 'mounts: bind ro, tmpfs with options, shm size, readonly rootfs',
    opts: {
      mounts: [
        { type: 'bind', source: '/host/data', destination: '/data', readonly: true },
        { type: 'tmpfs', destination: '/run', options: ['size=1m'] },
      ],
      shmSize: 1 << 20,
      readonlyRootfs: true,
    },
    want: (s) => {
      assert.deepEqual(mount(s, '/data'), {
        destination: '/data',
        type: 'bind',
        source: '/host/data',
        options: ['rbind', 'ro'],
      });
      assert.deepEqual(mount(s, '/run')?.options, ['nodev', 'nosuid', 'size=1m', 'mode=1777']);
      assert.ok(mount(s, '/dev/shm')?.options?.includes(`size=${1 << 20}`));
      assert.equal(s.root.readonly, true);
    },
  },
  {
    name: 'seccomp unconfined, sysctls, oom score, no-new-privileges, env extras',
    opts: {
      seccomp: 'unconfined',
      sysctls: { 'net.ipv4.ip_forward': '1' },
      oomScoreAdj: 500,
      noNewPrivileges: true,
      env: ['A=1'],
      hostname: 'web',
      terminal: true,
    },
    want: (s) => {
      assert.equal(s.linux.seccomp, undefined);
      assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
      assert.equal(s.process.oomScoreAdj, 500);
      assert.equal(s.process.noNewPrivileges, true);
      assert.equal(s.hostname, 'web');
      assert.ok(s.process.env.includes('A=1') && s.process.env.includes('HOSTNAME=web'));
      assert.ok(s.process.env.includes('TERM=xterm'));
      assert.ok(s.process.env.includes('HOME=/'));
    },
  },
];

for (const tc of cases) test(`buildSpec: ${tc.name}`, () => tc.want(buildSpec({ ...base, ...tc.opts })));

const invalid: { name: string; opts: Partial<SpecOptions> }[] = [
  { name: 'no command', opts: { args: [] } },
  { name: 'relative rootfs', opts: { rootfs: 'r' } },
  { name: 'unknown capability', opts: { capAdd: ['FLY'] } },
  { name: 'relative mount destination', opts: { mounts: [{ type: 'tmpfs', destination: 'x' }] } },
  { name: 'bind without source', opts: { mounts: [{ type: 'bind', destination: '/x' }] } },
  { name: 'swap below memory', opts: { resources: { memory: 100, memorySwap: 50 } } },
  { name: 'cpus and quota', opts: { resources: { nanoCpus: 1e9, cpuQuota: 1000 } } },
  { name: 'unknown ulimit', opts: { rlimits: [{ type: 'bogus', soft: 1, hard: 1 }] } },
];
for (const tc of invalid) {
  test(`buildSpec rejects: ${tc.name}`, () =>
    assert.throws(() => buildSpec({ ...base, ...tc.opts }), InvalidError));
}
