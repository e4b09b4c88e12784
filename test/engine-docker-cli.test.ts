/**
 * The engine driven by the real docker CLI: a daemon started by the test with
 * its own data dir, socket and kernel object names, real containers via
 * conmon + crun, real networking on the host's loopback and our netns.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EngineDaemon, startEngine } from './support/engine-daemon.ts';

let d: EngineDaemon;
const scratch = mkdtempSync(join(tmpdir(), 'drv-cli-scratch-'));

before(async () => {
  d = await startEngine('cli');
});
after(async () => {
  const left = await d.destroy();
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(left, [], 'nothing of the daemon is left in the kernel');
});

function ok(args: string[], input?: string): string {
  const r = d.docker(args, { input });
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('run', () => {
  test('output and exit codes pass through', () => {
    assert.equal(ok(['run', '--rm', 'busybox', 'echo', 'hello']), 'hello\n');
    const r = d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('a missing command exits 127, a non-executable one 126, a daemon error 125', () => {
    assert.equal(d.docker(['run', '--rm', 'busybox', 'no-such-command']).code, 127);
    assert.equal(d.docker(['run', '--rm', 'busybox', '/etc/passwd']).code, 126);
    const r = d.docker(['run', '--rm', 'no-such-image-here']);
    assert.equal(r.code, 125);
  });

  test('env, workdir and user', () => {
    const out = ok([
      'run',
      '--rm',
      '-e',
      'A=1',
      '-w',
      '/tmp',
      '-u',
      'nobody',
      'busybox',
      'sh',
      '-c',
      'echo $A $(pwd) $(id -un)',
    ]);
    assert.equal(out, '1 /tmp nobody\n');
  });

  test('--rm leaves no container behind', () => {
    ok(['run', '--rm', '--name', 'gone', 'busybox', 'true']);
    assert.equal(ok(['ps', '-a', '--filter', 'name=gone', '-q']), '');
  });

  test('a name in use is a conflict', () => {
    ok(['create', '--name', 'dup', 'busybox', 'true']);
    const r = d.docker(['run', '--name', 'dup', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Conflict\. The container name "\/dup" is already in use/);
    ok(['rm', 'dup']);
  });
});

describe('interactive', () => {
  test('the end of piped stdin reaches the container (run -i, three times)', () => {
    for (let i = 0; i < 3; i++) {
      const r = d.docker(['run', '-i', '--rm', 'busybox', 'wc', '-l'], {
        input: 'a\nb\nc\n',
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '3');
    }
  });

  test('stdin reaches the container with -i', () => {
    const r = d.docker(
      [
        'run',
        '-i',
        '--rm',
        'busybox',
        'sh',
        '-c',
        'read line; echo got $line; read line; echo $line; exit 5',
      ],
      {
        input: 'first\nsecond\n',
      },
    );
    assert.equal(r.code, 5);
    assert.equal(r.stdout, 'got first\nsecond\n');
  });

  test('a TTY with -it, and exec -it with its exit code', () => {
    // `script` gives the docker CLI a real pseudo-terminal, as a user's shell would.
    const viaPty = (cmd: string) =>
      spawnSync('script', ['-qec', cmd, '/dev/null'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, DOCKER_HOST: d.host },
      });
    const run = viaPty(`docker run -it --rm busybox sh -c 'tty; exit 4'`);
    assert.equal(run.status, 4);
    assert.match(run.stdout, /\/dev\/pts\/\d+/);
    ok(['run', '-d', '--name', 'ttyx', 'busybox', 'sleep', '1000']);
    const exec = viaPty(`docker exec -it ttyx sh -c 'tty; exit 6'`);
    assert.equal(exec.status, 6);
    assert.match(exec.stdout, /\/dev\/pts\/\d+/);
    ok(['rm', '-f', 'ttyx']);
  });
});

describe('limits are enforced', () => {
  test('a memory hog is OOM-killed', () => {
    const r = d.docker([
      'run',
      '--name',
      'hog',
      '--memory',
      '32m',
      'busybox',
      'sh',
      '-c',
      'x=$(head -c 200m /dev/zero | tr "\\0" a); echo survived',
    ]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /survived/);
    assert.equal(ok(['inspect', '-f', '{{.State.OOMKilled}}', 'hog']).trim(), 'true');
    ok(['rm', 'hog']);
  });

  test('the pids limit stops a fork bomb', () => {
    const bomb = 'for i in $(seq 60); do sleep 5 & done; echo forked all';
    const limited = d.docker(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', bomb]);
    assert.notEqual(limited.code, 0);
    assert.match(limited.stderr, /can't fork/);
    assert.doesNotMatch(limited.stdout, /forked all/);
    const unlimited = ok([
      'run',
      '--rm',
      '--pids-limit',
      '100',
      'busybox',
      'sh',
      '-c',
      `${bomb}; kill $(jobs -p)`,
    ]);
    assert.equal(unlimited, 'forked all\n');
  });
});

describe('lifecycle', () => {
  test('detached, logs, exec, inspect, top, stop, restart, rm', async () => {
    const id = ok([
      'run',
      '-d',
      '--name',
      'life',
      '-l',
      'app=web',
      'busybox',
      'sh',
      '-c',
      'echo started; echo oops >&2; exec sleep 1000',
    ]).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await until('logs', () => d.docker(['logs', 'life']).stdout.includes('started'));
    const logs = d.docker(['logs', 'life']);
    assert.equal(logs.stdout, 'started\n');
    assert.equal(logs.stderr, 'oops\n');
    assert.match(ok(['logs', '-t', 'life']), /^\d{4}-\d\d-\d\dT[\d:.]+Z started\n$/);
    assert.equal(ok(['ps', '--filter', 'label=app=web', '--format', '{{.Names}}']).trim(), 'life');
    const exec = d.docker(['exec', '-e', 'X=2', '-w', '/etc', 'life', 'sh', '-c', 'echo $X $(pwd); exit 7']);
    assert.equal(exec.code, 7);
    assert.equal(exec.stdout, '2 /etc\n');
    assert.match(ok(['top', 'life']), /sleep 1000/);
    assert.equal(
      ok(['inspect', '-f', '{{.State.Running}} {{.Config.Labels.app}}', 'life']).trim(),
      'true web',
    );
    const rm = d.docker(['rm', 'life']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /You cannot remove a running container/);
    ok(['stop', '-t', '1', 'life']);
    assert.equal(ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'life']).trim(), 'exited 137');
    ok(['restart', 'life']);
    assert.equal(ok(['inspect', '-f', '{{.State.Status}}', 'life']).trim(), 'running');
    ok(['pause', 'life']);
    assert.equal(ok(['inspect', '-f', '{{.State.Status}}', 'life']).trim(), 'paused');
    ok(['unpause', 'life']);
    ok(['rename', 'life', 'life2']);
    ok(['rm', '-f', 'life2']);
    assert.match(d.docker(['inspect', 'life2']).stderr, /No such/i);
  });

  test('restart policy on-failure restarts up to its limit', async () => {
    ok(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
    await until('two restarts', () => {
      const s = ok(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky']).trim();
      return s === '2 exited' && s;
    });
    ok(['rm', 'flaky']);
  });
});

describe('files', () => {
  test('cp both ways, diff, export, commit', () => {
    ok([
      'run',
      '--name',
      'files',
      'busybox',
      'sh',
      '-c',
      'echo made > /made.txt; rm /etc/shells 2>/dev/null; true',
    ]);
    const host = join(scratch, 'in.txt');
    writeFileSync(host, 'from host\n');
    ok(['cp', host, 'files:/tmp/in.txt']);
    ok(['cp', 'files:/made.txt', join(scratch, 'out.txt')]);
    assert.equal(readFileSync(join(scratch, 'out.txt'), 'utf8'), 'made\n');
    const diff = ok(['diff', 'files']);
    assert.match(diff, /^A \/made\.txt$/m);
    assert.match(diff, /^A \/tmp\/in\.txt$/m);
    ok(['commit', '-m', 'snap', 'files', 'snap:1']);
    assert.equal(ok(['run', '--rm', 'snap:1', 'cat', '/made.txt', '/tmp/in.txt']), 'made\nfrom host\n');
    ok(['rm', 'files']);
    ok(['rmi', 'snap:1']);
  });
});

describe('volumes and networks', () => {
  test('a named volume keeps data across containers', () => {
    ok(['volume', 'create', 'keep']);
    ok(['run', '--rm', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(ok(['run', '--rm', '-v', 'keep:/data:ro', 'busybox', 'cat', '/data/f']), 'kept\n');
    ok(['volume', 'rm', 'keep']);
  });

  test('bind mounts, read-only', () => {
    writeFileSync(join(scratch, 'bound'), 'bound\n');
    assert.equal(ok(['run', '--rm', '-v', `${scratch}:/mnt:ro`, 'busybox', 'cat', '/mnt/bound']), 'bound\n');
    assert.notEqual(
      d.docker(['run', '--rm', '-v', `${scratch}:/mnt:ro`, 'busybox', 'touch', '/mnt/x']).code,
      0,
    );
  });

  test('containers on a user network reach each other by name and alias', () => {
    ok(['network', 'create', 'appnet']);
    ok([
      'run',
      '-d',
      '--name',
      'srv',
      '--network',
      'appnet',
      '--network-alias',
      'web',
      'busybox',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    ]);
    const out = ok([
      'run',
      '--rm',
      '--network',
      'appnet',
      'busybox',
      'sh',
      '-c',
      'wget -q -O - http://srv/hostname && wget -q -O - http://web/hostname',
    ]);
    const hostname = ok(['inspect', '-f', '{{.Config.Hostname}}', 'srv']).trim();
    assert.equal(out, `${hostname}\n${hostname}\n`);
    ok(['rm', '-f', 'srv']);
    ok(['network', 'rm', 'appnet']);
  });

  test('a published port answers on 127.0.0.1', async () => {
    ok([
      'run',
      '-d',
      '--name',
      'pub',
      '-p',
      '127.0.0.1::80',
      'busybox',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    ]);
    const port = ok(['port', 'pub', '80/tcp']).trim().split(':').pop();
    const res = await fetch(`http://127.0.0.1:${port}/hostname`);
    assert.equal(res.status, 200);
    assert.equal((await res.text()).trim(), ok(['inspect', '-f', '{{.Config.Hostname}}', 'pub']).trim());
    const clash = d.docker(['run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, /port is already allocated/);
    ok(['rm', '-f', 'pub']);
  });
});

describe('daemon restart', () => {
  test('running containers survive the daemon and are re-adopted', async () => {
    ok(['run', '-d', '--name', 'survivor', 'busybox', 'sleep', '1000']);
    const pid = ok(['inspect', '-f', '{{.State.Pid}}', 'survivor']).trim();
    await d.kill('SIGKILL');
    assert.ok(
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep'),
      'still running without the daemon',
    );
    await d.restart();
    assert.equal(
      ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'survivor']).trim(),
      `running ${pid}`,
    );
    ok(['stop', '-t', '0', 'survivor']);
    assert.equal(ok(['inspect', '-f', '{{.State.Status}}', 'survivor']).trim(), 'exited');
    ok(['rm', 'survivor']);
  });
});
