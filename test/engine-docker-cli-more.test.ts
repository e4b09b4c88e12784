/**
 * The rest of the docker CLI surface against a real engine: network modes,
 * mounts and resource flags, log options, stats, images round trips, events,
 * system commands and bad input.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EngineDaemon, startEngine } from './support/engine-daemon.ts';

let d: EngineDaemon;
const scratch = mkdtempSync(join(tmpdir(), 'drv-cli2-scratch-'));

before(async () => {
  d = await startEngine('cl2');
});
after(async () => {
  const left = await d.destroy();
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(left, []);
});

function ok(args: string[], input?: string): string {
  const r = d.docker(args, { input });
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

describe('system', () => {
  test('version and info', () => {
    assert.equal(ok(['version', '--format', '{{.Server.APIVersion}}']).trim(), '1.41');
    assert.match(ok(['info', '--format', '{{.Driver}} {{.CgroupDriver}}']), /^overlay2 cgroupfs/);
  });
});

describe('run flags', () => {
  test('network modes: none, host, container:', () => {
    assert.equal(
      ok([
        'run',
        '--rm',
        '--network',
        'none',
        'busybox',
        'sh',
        '-c',
        'ls /sys/class/net | tr "\\n" " "',
      ]).trim(),
      'lo',
    );
    const hostIfaces = ok(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    assert.match(hostIfaces, new RegExp(`^${d.prefix}0$`, 'm'), 'the host network shows the engine bridge');
    ok(['run', '-d', '--name', 'netowner', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
    const shared = ok([
      'run',
      '--rm',
      '--network',
      'container:netowner',
      'busybox',
      'wget',
      '-q',
      '-O',
      '-',
      'http://127.0.0.1:8080/hostname',
    ]);
    assert.equal(shared.trim(), ok(['inspect', '-f', '{{.Config.Hostname}}', 'netowner']).trim());
    ok(['rm', '-f', 'netowner']);
  });

  test('--mount, --tmpfs, --read-only, --entrypoint, --init, --cpus, --hostname', () => {
    writeFileSync(join(scratch, 'm.txt'), 'mounted\n');
    assert.equal(
      ok([
        'run',
        '--rm',
        '--mount',
        `type=bind,source=${scratch},target=/m,readonly`,
        'busybox',
        'cat',
        '/m/m.txt',
      ]),
      'mounted\n',
    );
    assert.match(
      ok([
        'run',
        '--rm',
        '--read-only',
        '--tmpfs',
        '/scratch',
        'busybox',
        'sh',
        '-c',
        'touch /scratch/ok && echo yes; touch /nope 2>&1; true',
      ]),
      /yes\n.*Read-only file system/s,
    );
    assert.equal(
      ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']),
      'via entrypoint\n',
    );
    assert.equal(
      ok(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']).trim(),
      '/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr "\\0" " "',
    );
    ok([
      'run',
      '-d',
      '--name',
      'cpus',
      '--cpus',
      '0.5',
      '--memory',
      '64m',
      '--hostname',
      'box',
      'busybox',
      'sleep',
      '100',
    ]);
    assert.equal(
      ok([
        'inspect',
        '-f',
        '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.Config.Hostname}}',
        'cpus',
      ]).trim(),
      '500000000 67108864 box',
    );
    const stats = ok(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', 'cpus']);
    assert.match(stats, /^cpus .* \/ 64MiB$/m);
    ok(['kill', 'cpus']);
    assert.equal(ok(['inspect', '-f', '{{.State.ExitCode}}', 'cpus']).trim(), '137');
    ok(['rm', 'cpus']);
  });

  test('restart=always brings a container back after it exits', async () => {
    ok(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 1']);
    const deadline = Date.now() + 15_000;
    while (Number(ok(['inspect', '-f', '{{.RestartCount}}', 'always']).trim()) < 2) {
      assert.ok(Date.now() < deadline, 'restarted twice within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    ok(['rm', '-f', 'always']);
  });
});

describe('logs', () => {
  test('--tail, --since, -f ends when the container exits', () => {
    ok(['run', '--name', 'lines', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo $i; done']);
    assert.equal(ok(['logs', '--tail', '2', 'lines']), '4\n5\n');
    assert.equal(ok(['logs', '--since', '2999-01-01T00:00:00Z', 'lines']), '');
    assert.equal(ok(['logs', '-f', 'lines']), '1\n2\n3\n4\n5\n');
    ok(['rm', 'lines']);
  });
});

describe('log rotation', () => {
  test('--log-opt max-size/max-file cap the log and logs still ends with the last line', () => {
    // ~650 KB of log over ~4 s; past 8 KiB the live file rotates (checked every second), 2 files kept.
    const script =
      'i=0; while [ $i -lt 40 ]; do seq 1 600 | sed "s/^/$i-/"; i=$((i+1)); sleep 0.1; done; echo the-end';
    ok([
      'run',
      '--name',
      'chatty',
      '--log-opt',
      'max-size=8k',
      '--log-opt',
      'max-file=2',
      'busybox',
      'sh',
      '-c',
      script,
    ]);
    const logs = ok(['logs', 'chatty']);
    assert.ok(logs.endsWith('the-end\n'), 'the last line is there');
    assert.ok(logs.length < 400_000, `the log was capped (${logs.length} bytes kept)`);
    assert.doesNotMatch(logs, /^0-1$/m, 'the oldest lines were rotated away');
    ok(['rm', 'chatty']);
  });
});

describe('images', () => {
  test('tag, history, save/load round trip, export/import, rmi', () => {
    ok(['tag', 'busybox', 'mine/bb:v1']);
    assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^mine\/bb:v1$/m);
    assert.ok(ok(['history', 'mine/bb:v1']).split('\n').length >= 2);
    const tar = join(scratch, 'saved.tar');
    ok(['save', '-o', tar, 'mine/bb:v1']);
    const id = ok(['inspect', '-f', '{{.Id}}', 'mine/bb:v1']).trim();
    ok(['rmi', 'mine/bb:v1']);
    assert.match(ok(['load', '-i', tar]), /Loaded image: mine\/bb:v1/);
    assert.equal(ok(['inspect', '-f', '{{.Id}}', 'mine/bb:v1']).trim(), id);
    ok(['create', '--name', 'exp', 'busybox', 'true']);
    const exported = join(scratch, 'exp.tar');
    ok(['export', '-o', exported, 'exp']);
    ok(['import', exported, 'imported:1']);
    assert.equal(ok(['run', '--rm', 'imported:1', '/bin/echo', 'imported works']), 'imported works\n');
    ok(['rm', 'exp']);
    ok(['rmi', 'imported:1', 'mine/bb:v1']);
  });

  test('removing an image in use is refused', () => {
    ok(['create', '--name', 'user', 'busybox', 'true']);
    const r = d.docker(['rmi', 'busybox:1.35', 'busybox:latest']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /conflict|must force|being used/i);
    ok(['rm', 'user']);
  });
});

describe('networks and volumes', () => {
  test('connect and disconnect a running container; volume prune', () => {
    ok(['network', 'create', '--subnet', '10.123.45.0/24', 'net2']);
    ok(['run', '-d', '--name', 'multi', 'busybox', 'sleep', '100']);
    ok(['network', 'connect', '--alias', 'm2', 'net2', 'multi']);
    assert.match(ok(['exec', 'multi', 'ip', '-4', 'addr']), /10\.123\.45\.\d+/);
    assert.match(ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}}{{end}}', 'net2']), /multi/);
    ok(['network', 'disconnect', 'net2', 'multi']);
    assert.doesNotMatch(ok(['exec', 'multi', 'ip', '-4', 'addr']), /10\.123\.45\./);
    ok(['rm', '-f', 'multi']);
    ok(['network', 'rm', 'net2']);
    ok(['volume', 'create', 'unused']);
    assert.match(ok(['volume', 'prune', '-f', '--filter', 'all=true']), /unused/);
  });
});

describe('events and system', () => {
  test('events replay with --since/--until, system df and prune', () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    ok(['run', '--rm', '--name', 'evented', 'busybox', 'true']);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const events = ok([
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--filter',
      'container=evented',
      '--format',
      '{{.Action}}',
    ]);
    assert.deepEqual(
      events.split('\n').filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)),
      ['create', 'start', 'die', 'destroy'],
    );
    assert.match(ok(['system', 'df']), /Images\s+\d+/);
    const stopped = ok(['create', 'busybox', 'true']).trim();
    const pruned = ok(['system', 'prune', '-f']);
    assert.match(pruned, /Total reclaimed space/);
    assert.match(pruned, new RegExp(stopped));
    assert.equal(d.docker(['inspect', stopped]).code, 1, 'the stopped container is gone');
  });
});

describe('bad input', () => {
  const cases: { name: string; args: string[]; code: number; err: RegExp }[] = [
    { name: 'unknown container', args: ['inspect', 'nope'], code: 1, err: /No such (container|object)/ },
    {
      name: 'unknown image on run',
      args: ['run', 'no-such:tag'],
      code: 125,
      err: /pull|No such image|not available/i,
    },
    { name: 'malformed memory', args: ['run', '-m', '12zz', 'busybox'], code: 125, err: /invalid|size/i },
    {
      name: 'impossible memory',
      args: ['run', '-m', '1k', 'busybox'],
      code: 125,
      err: /Minimum memory limit/,
    },
    {
      name: 'bad restart policy',
      args: ['run', '--restart', 'sometimes', 'busybox'],
      code: 125,
      err: /restart policy/,
    },
    { name: 'invalid filter', args: ['ps', '--filter', 'bogus=1'], code: 1, err: /invalid filter/i },
    { name: 'image tar that is not one', args: ['load', '-i', '/etc/hostname'], code: 1, err: /.+/ },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const r = d.docker(tc.args);
      assert.equal(r.code, tc.code, r.stderr);
      assert.match(r.stderr, tc.err);
    });
  }

  test('clients that disconnect mid-stream leave the daemon healthy', async () => {
    ok([
      'run',
      '-d',
      '--name',
      'streamer',
      'busybox',
      'sh',
      '-c',
      'while true; do echo tick; sleep 0.1; done',
    ]);
    for (const args of [
      ['logs', '-f', 'streamer'],
      ['attach', 'streamer'],
      ['stats', 'streamer'],
      ['events'],
    ]) {
      const child = spawn('docker', ['-H', d.host, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    assert.equal(ok(['inspect', '-f', '{{.State.Status}}', 'streamer']).trim(), 'running');
    assert.match(ok(['logs', '--tail', '1', 'streamer']), /tick/);
    ok(['rm', '-f', 'streamer']);
  });

  test('ambiguous id prefixes are refused', () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(ok(['create', 'busybox', 'true']).trim());
    const byFirst = new Map<string, number>();
    for (const id of ids) byFirst.set(id[0]!, (byFirst.get(id[0]!) ?? 0) + 1);
    const shared = [...byFirst].find(([, n]) => n > 1)?.[0];
    if (shared) assert.match(d.docker(['inspect', shared]).stderr, /multiple|ambiguous|No such/i);
    ok(['rm', ...ids]);
  });
});
