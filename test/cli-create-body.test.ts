/**
 * run/create flags → the body of POST /containers/create, compared with the
 * bodies the real docker CLI 28.2.2 sent (docker-captures/*.log, copied into
 * cli-create-bodies.json). The argv goes through the real commander
 * declarations, so combined short flags and pass-through of the container's
 * own arguments are covered too.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerRun } from '../src/cli/commands/containers-run.ts';
import { buildCreateBody, type RunOptions } from '../src/cli/run-flags.ts';

interface Case {
  name: string;
  verb: 'run' | 'create';
  argv: string[];
  consoleSize?: [number, number];
  body: Record<string, unknown>;
}

const cases = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, 'cli-create-bodies.json'), 'utf8'),
) as Case[];

/** Parses argv with the CLI's own declarations and returns what the action would receive. */
function parse(
  verb: 'run' | 'create',
  argv: string[],
): { image: string; command: string[]; opts: RunOptions } {
  const program = new Command().enablePositionalOptions().exitOverride();
  registerRun(program);
  const cmd = program.commands.find((c) => c.name() === verb);
  assert.ok(cmd);
  let parsed: { image: string; command: string[]; opts: RunOptions } | undefined;
  cmd.action((image: string, command: string[], opts: RunOptions) => {
    parsed = { image, command, opts };
  });
  program.parse([verb, ...argv], { from: 'user' });
  assert.ok(parsed, 'the action ran');
  return parsed;
}

const runEnv = { env: {}, readFile: () => '', cwd: '/' };

for (const tc of cases) {
  test(`create body: ${tc.name}`, () => {
    const { image, command, opts } = parse(tc.verb, tc.argv);
    const body = buildCreateBody(tc.verb, image, command, opts, { ...runEnv, consoleSize: tc.consoleSize });
    assert.deepEqual(JSON.parse(JSON.stringify(body)), tc.body);
  });
}

const flagCases: {
  name: string;
  argv: string[];
  want: (b: ReturnType<typeof buildCreateBody>) => unknown;
  expect: unknown;
}[] = [
  {
    name: 'combined -dit',
    argv: ['-dit', 'busybox'],
    want: (b) => [b.Tty, b.OpenStdin, b.AttachStdin, b.AttachStdout],
    expect: [true, true, false, false],
  },
  {
    name: 'options after the image belong to the container',
    argv: ['busybox', 'ls', '-la', '--rm'],
    want: (b) => [b.Cmd, b.HostConfig.AutoRemove],
    expect: [['ls', '-la', '--rm'], false],
  },
  {
    name: '-e NAME takes the value from the environment',
    argv: ['-e', 'HOME', '-e', 'UNSET_X', 'busybox'],
    want: (b) => b.Env,
    expect: ['HOME=/root', 'UNSET_X'],
  },
  {
    name: 'anonymous volume',
    argv: ['-v', '/data', 'busybox'],
    want: (b) => [b.Volumes, b.HostConfig.Binds],
    expect: [{ '/data': {} }, null],
  },
  {
    name: 'relative bind resolved',
    argv: ['-v', './src:/src:ro', 'busybox'],
    want: (b) => b.HostConfig.Binds,
    expect: ['/work/src:/src:ro'],
  },
  {
    name: 'readonly tmpfs-size mount',
    argv: ['--mount', 'type=tmpfs,target=/t,tmpfs-size=64m', '--mount', 'type=bind,src=/a,dst=/b,readonly'],
    want: (b) => b.HostConfig.Mounts,
    expect: [
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 67108864 } },
      { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true },
    ],
  },
  {
    name: '-P and --expose',
    argv: ['-P', '--expose', '8000-8001/udp', 'busybox'],
    want: (b) => [b.HostConfig.PublishAllPorts, b.ExposedPorts],
    expect: [true, { '8000/udp': {}, '8001/udp': {} }],
  },
  {
    name: 'limits',
    argv: [
      '-m',
      '1g',
      '--memory-swap',
      '-1',
      '--cpus',
      '1.5',
      '--cpu-shares',
      '512',
      '--cpuset-cpus',
      '0-1',
      '--pids-limit',
      '64',
      '--shm-size',
      '128m',
      'busybox',
    ],
    want: (b) => [
      b.HostConfig.Memory,
      b.HostConfig.MemorySwap,
      b.HostConfig.NanoCpus,
      b.HostConfig.CpuShares,
      b.HostConfig.CpusetCpus,
      b.HostConfig.PidsLimit,
      b.HostConfig.ShmSize,
    ],
    expect: [1073741824, -1, 1500000000, 512, '0-1', 64, 134217728],
  },
  {
    name: 'security and host settings',
    argv: [
      '--read-only',
      '--privileged',
      '--cap-add',
      'NET_ADMIN',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--ulimit',
      'nofile=1024:2048',
      '--dns',
      '1.1.1.1',
      '--add-host',
      'db:10.0.0.2',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      '--tmpfs',
      '/run:rw,size=64m',
      'busybox',
    ],
    want: (b) => [
      b.HostConfig.ReadonlyRootfs,
      b.HostConfig.Privileged,
      b.HostConfig.CapAdd,
      b.HostConfig.CapDrop,
      b.HostConfig.SecurityOpt,
      b.HostConfig.Ulimits,
      b.HostConfig.Dns,
      b.HostConfig.ExtraHosts,
      b.HostConfig.Sysctls,
      b.HostConfig.Tmpfs,
    ],
    expect: [
      true,
      true,
      ['NET_ADMIN'],
      ['ALL'],
      ['no-new-privileges'],
      [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
      ['1.1.1.1'],
      ['db:10.0.0.2'],
      { 'net.ipv4.ip_forward': '1' },
      { '/run': 'rw,size=64m' },
    ],
  },
  {
    name: 'network alias and ip',
    argv: ['--network', 'appnet', '--network-alias', 'web', '--ip', '10.1.0.5', 'busybox'],
    want: (b) => [
      b.HostConfig.NetworkMode,
      b.NetworkingConfig.EndpointsConfig.appnet?.Aliases,
      b.NetworkingConfig.EndpointsConfig.appnet?.IPAMConfig,
    ],
    expect: ['appnet', ['web'], { IPv4Address: '10.1.0.5' }],
  },
  {
    name: 'restart on-failure:3, stop signal and timeout, -h hostname',
    argv: [
      '--restart',
      'on-failure:3',
      '--stop-signal',
      'SIGQUIT',
      '--stop-timeout',
      '5',
      '-h',
      'box',
      'busybox',
    ],
    want: (b) => [b.HostConfig.RestartPolicy, b.StopSignal, b.StopTimeout, b.Hostname],
    expect: [{ Name: 'on-failure', MaximumRetryCount: 3 }, 'SIGQUIT', 5, 'box'],
  },
  {
    name: 'entrypoint and init',
    argv: ['--entrypoint', '/bin/sh', '--init', 'busybox', '-c', 'true'],
    want: (b) => [b.Entrypoint, b.Cmd, b.HostConfig.Init],
    expect: [['/bin/sh'], ['-c', 'true'], true],
  },
];

for (const tc of flagCases) {
  test(`run flags: ${tc.name}`, () => {
    const { image, command, opts } = parse(
      'run',
      tc.argv.includes('busybox') ? tc.argv : [...tc.argv, 'busybox'],
    );
    const body = buildCreateBody('run', image, command, opts, {
      env: { HOME: '/root' },
      readFile: () => '',
      cwd: '/work',
    });
    assert.deepEqual(tc.want(body), tc.expect);
  });
}

const errorCases: { name: string; argv: string[]; message: RegExp }[] = [
  { name: 'malformed memory', argv: ['-m', '12x', 'busybox'], message: /invalid size "12x" for --memory/ },
  {
    name: 'bad restart policy',
    argv: ['--restart', 'sometimes', 'busybox'],
    message: /invalid restart policy "sometimes"/,
  },
  {
    name: '--rm with a restart policy',
    argv: ['--rm', '--restart', 'always', 'busybox'],
    message: /conflicting options: --restart and --rm/,
  },
  { name: 'bad port', argv: ['-p', '70000:80', 'busybox'], message: /invalid port "70000"/ },
  { name: 'bad cpus', argv: ['--cpus', 'many', 'busybox'], message: /invalid value "many" for --cpus/ },
  { name: 'bad ulimit', argv: ['--ulimit', 'nofile', 'busybox'], message: /invalid ulimit "nofile"/ },
  {
    name: 'relative anonymous volume',
    argv: ['-v', 'data', 'busybox'],
    message: /the container path must be absolute/,
  },
  {
    name: 'mount without target',
    argv: ['--mount', 'type=volume,source=v', 'busybox'],
    message: /has no target/,
  },
];

for (const tc of errorCases) {
  test(`run flag errors: ${tc.name}`, () => {
    const { image, command, opts } = parse('run', tc.argv);
    assert.throws(() => buildCreateBody('run', image, command, opts, runEnv), tc.message);
  });
}
