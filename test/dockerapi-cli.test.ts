/**
 * The real docker CLI (28.x) against the Docker API server over the fake
 * engine: the HTTP layer end to end, in milliseconds, no containers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeEngine } from '../src/dockerapi/fake-engine.ts';
import { createDockerApiServer, type DockerApiServer } from '../src/dockerapi/server.ts';

const DOCKER = '/usr/local/bin/docker';
let dir = '';
let server: DockerApiServer;
let engine: FakeEngine;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function docker(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      DOCKER,
      ['-H', `unix://${join(dir, 'docker.sock')}`, ...args],
      { env: { PATH: process.env.PATH ?? '', DOCKER_CONFIG: join(dir, 'config') }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await docker(args, input);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drv-dockerapi-cli-'));
  engine = new FakeEngine();
  server = createDockerApiServer({ engine });
  await server.listen(join(dir, 'docker.sock'));
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('version negotiates API 1.41', async () => {
  const out = await ok(['version']);
  assert.match(out, /API version:\s+1\.41 \(downgraded from/);
  assert.match(out, /API version:\s+1\.41 \(minimum version 1\.12\)/);
  assert.equal((await ok(['version', '-f', '{{.Server.APIVersion}}'])).trim(), '1.41');
});

test('info prints the engine fields', async () => {
  const out = await ok(['info']);
  assert.match(out, /Server Version: 0\.1\.0-fake/);
  assert.match(out, /Swarm: inactive/);
});

test('run -d, ps, ps -a, --filter, --format, inspect -f', async () => {
  const id = (await ok(['run', '-d', '--name', 'web', '-l', 'tier=front', 'busybox', 'sleep'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await ok(['create', '--name', 'idle', 'busybox', 'true']);
  const ps = await ok(['ps', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps, /^web Up/m);
  assert.doesNotMatch(ps, /idle/);
  const all = await ok(['ps', '-a', '--format', '{{.Names}}']);
  assert.deepEqual(all.trim().split('\n').sort(), ['idle', 'web']);
  assert.equal((await ok(['ps', '-q', '--filter', 'label=tier=front'])).trim(), id.slice(0, 12));
  assert.equal(
    (await ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}'])).trim(),
    'idle',
  );
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.Name}}', 'web'])).trim(), 'running /web');
  assert.equal(
    (await ok(['inspect', '-f', '{{json .Config.Labels}}', id.slice(0, 8)])).trim(),
    '{"tier":"front"}',
  );
  await ok(['rm', '-f', 'web', 'idle']);
});

test('run in the foreground relays output and exits with the container code', async () => {
  const r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('run fails like docker: missing binary 127, missing image 125 with the pull error', async () => {
  const bad = await docker(['run', '--rm', 'busybox', '/nonexist']);
  assert.equal(bad.code, 127, bad.stderr);
  assert.match(bad.stderr, /no such file or directory/);
  const missing = await docker(['run', '--rm', 'nosuchimg']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /Unable to find image 'nosuchimg:latest' locally/);
  assert.match(missing.stderr, /registry not available/);
});

test('logs demultiplexes stdout and stderr; --tail and -t', async () => {
  const id = (await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo one; echo two >&2; echo three'])).trim();
  assert.equal((await ok(['wait', id])).trim(), '0');
  const r = await docker(['logs', id]);
  assert.equal(r.stdout, 'one\nthree\n');
  assert.equal(r.stderr, 'two\n');
  assert.equal(await ok(['logs', '--tail', '1', id]), 'three\n');
  assert.match(await ok(['logs', '-t', '--tail', '1', id]), /^\d{4}-\d\d-\d\dT\S+Z three\n$/);
  await ok(['rm', id]);
});

test('rm of an unknown container: error, but -f exits 0', async () => {
  const r = await docker(['rm', 'nonexist']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error response from daemon: No such container: nonexist/);
  const f = await docker(['rm', '-f', 'nonexist']);
  assert.equal(f.code, 0);
});

test('name conflicts and running-container removal are 409s with docker wording', async () => {
  await ok(['run', '-d', '--name', 'dup', 'busybox', 'sleep']);
  const r = await docker(['run', '-d', '--name', 'dup', 'busybox']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Conflict\. The container name "\/dup" is already in use/);
  const rmr = await docker(['rm', 'dup']);
  assert.match(rmr.stderr, /You cannot remove a running container/);
  await ok(['rm', '-f', 'dup']);
});

test('lifecycle verbs: stop, start (twice), restart, pause, unpause, rename, kill, wait', async () => {
  await ok(['run', '-d', '--name', 'lc', 'busybox', 'sleep']);
  assert.equal((await ok(['stop', 'lc'])).trim(), 'lc');
  assert.equal((await ok(['stop', 'lc'])).trim(), 'lc');
  await ok(['start', 'lc']);
  await ok(['start', 'lc']);
  await ok(['restart', 'lc']);
  await ok(['pause', 'lc']);
  assert.match(await ok(['ps', '--format', '{{.Status}}', '-f', 'name=lc']), /Paused/);
  await ok(['unpause', 'lc']);
  await ok(['rename', 'lc', 'lc2']);
  await ok(['kill', 'lc2']);
  assert.equal((await ok(['wait', 'lc2'])).trim(), '137');
  const again = await docker(['kill', 'lc2']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not running/);
  await ok(['rm', 'lc2']);
});

test('exec: output, exit code, stdin through the hijacked stream', async () => {
  await ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep']);
  const r = await docker(['exec', 'ex', 'sh', '-c', 'echo execout; echo execerr >&2; exit 7']);
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'execout\n');
  assert.equal(r.stderr, 'execerr\n');
  assert.equal(await ok(['exec', '-i', 'ex', 'cat'], 'hello-stdin\n'), 'hello-stdin\n');
  await ok(['exec', '-d', 'ex', 'sleep', '1']);
  await ok(['rm', '-f', 'ex']);
});

test('images, tag, history, rmi, import, save and load', async () => {
  assert.match(await ok(['images']), /busybox\s+latest/);
  await ok(['tag', 'busybox', 'mine:1']);
  assert.match(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /mine:1/);
  assert.match(await ok(['history', 'mine:1']), /Imported from -/);
  assert.match(await ok(['rmi', 'mine:1']), /Untagged: mine:1/);
  const imported = (await ok(['import', '-', 'imp:2'], 'a rootfs tarball')).trim();
  assert.match(imported, /^sha256:[0-9a-f]{64}$/);
  const tar = join(dir, 'save.tar');
  await ok(['save', '-o', tar, 'imp:2']);
  assert.equal(await readFile(tar, 'utf8'), 'fake-tar:imp:2:latest'.replace(':2:latest', ':2'));
  assert.match(await ok(['load', '-i', tar]), /Loaded image: imp:2/);
  const bad = join(dir, 'bad.tar');
  await writeFile(bad, 'not a tar');
  const r = await docker(['load', '-i', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not an image archive/);
});

test('network and volume commands', async () => {
  const nid = (await ok(['network', 'create', 'drv-net-a'])).trim();
  assert.match(nid, /^[0-9a-f]{64}$/);
  assert.match(await ok(['network', 'ls']), /drv-net-a\s+bridge\s+local/);
  assert.equal((await ok(['network', 'inspect', '-f', '{{.Name}}', 'drv-net-a'])).trim(), 'drv-net-a');
  assert.equal((await ok(['network', 'rm', 'drv-net-a'])).trim(), 'drv-net-a');
  const missing = await docker(['network', 'rm', 'drv-net-a']);
  assert.match(missing.stderr, /network drv-net-a not found/);
  assert.equal((await ok(['volume', 'create', 'drv-vol-a'])).trim(), 'drv-vol-a');
  assert.match(await ok(['volume', 'ls']), /local\s+drv-vol-a/);
  assert.equal((await ok(['volume', 'inspect', '-f', '{{.Driver}}', 'drv-vol-a'])).trim(), 'local');
  await ok(['volume', 'rm', 'drv-vol-a']);
  const gone = await docker(['volume', 'inspect', 'drv-vol-a']);
  assert.equal(gone.code, 1);
});

test('events --since/--until replays and ends', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['volume', 'create', 'drv-evt-vol']);
  const until = (Date.now() / 1000 + 0.05).toFixed(3);
  const out = await ok(['events', '--since', String(since), '--until', until, '--filter', 'type=volume']);
  assert.match(out, /volume create drv-evt-vol \(driver=local\)/);
  await ok(['volume', 'rm', 'drv-evt-vol']);
});

test('cp both ways, stats --no-stream, top, diff, port', async () => {
  await ok(['run', '-d', '--name', 'cpc', 'busybox', 'sleep']);
  const src = join(dir, 'hostfile.txt');
  await writeFile(src, 'hello from the host');
  await ok(['cp', src, 'cpc:/tmp/']);
  assert.equal(
    await ok(['cp', 'cpc:/etc/hostname', '-']),
    (await ok(['inspect', '-f', '{{.Id}}', 'cpc'])).slice(0, 12) + '\n',
  );
  const missing = await docker(['cp', 'cpc:/nonexist', dir]);
  assert.match(missing.stderr, /Could not find the file \/nonexist in container cpc/);
  assert.match(await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'cpc']), /^cpc 1$/m);
  assert.match(await ok(['top', 'cpc']), /4242/);
  assert.match(await ok(['diff', 'cpc']), /C \/tmp/);
  assert.equal(await ok(['port', 'cpc']), '');
  await ok(['rm', '-f', 'cpc']);
});

test('system df and the prunes', async () => {
  assert.match(await ok(['system', 'df']), /TYPE\s+TOTAL\s+ACTIVE/);
  await ok(['run', '-d', '--name', 'prunable', 'busybox', 'true']);
  assert.equal((await ok(['wait', 'prunable'])).trim(), '0');
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'prunable'])).trim();
  assert.match(await ok(['container', 'prune', '-f']), new RegExp(id));
  assert.match(await ok(['image', 'prune', '-f']), /Total reclaimed space: 0B/);
  await ok(['network', 'prune', '-f']);
  await ok(['volume', 'create', 'drv-prune-vol']);
  assert.match(await ok(['volume', 'prune', '-f']), /drv-prune-vol/);
  assert.match(await ok(['system', 'prune', '-f']), /Total reclaimed space/);
});

test('inspect of an unknown object walks every kind and fails cleanly', async () => {
  const r = await docker(['inspect', 'nosuch']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such object: nosuch/);
  assert.equal(engine.liveEventStreams(), 0);
});

const hasScript = await new Promise<boolean>((resolve) =>
  execFile('script', ['--version'], (err) => resolve(!err)),
);

/** Runs a docker command inside a pseudo-terminal of 30x90 (util-linux script). */
function dockerInPty(args: string, input = ''): Promise<Result> {
  const cmd = `stty rows 30 cols 90; ${DOCKER} -H unix://${join(dir, 'docker.sock')} ${args}`;
  return new Promise((resolve) => {
    const child = execFile(
      'script',
      ['-qec', cmd, '/dev/null'],
      { env: { PATH: process.env.PATH ?? '', DOCKER_CONFIG: join(dir, 'config') }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

test('run -it and exec -it: raw TTY stream, resize, exit code', {
  skip: !hasScript && 'no script(1)',
}, async () => {
  const r = await dockerInPty("run -it --rm --name ttyc busybox sh -c 'sleep 20; echo tty-out; exit 5'");
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, 'tty-out\r\n');
  assert.ok(
    engine.resizes.some((x) => x.rows === 30 && x.cols === 90),
    JSON.stringify(engine.resizes),
  );
  await ok(['run', '-d', '--name', 'ttyx', 'busybox', 'sleep']);
  const before = engine.resizes.length;
  const e = await dockerInPty("exec -it ttyx sh -c 'sleep 20; echo exec-tty; exit 6'");
  assert.equal(e.code, 6, e.stderr);
  assert.equal(e.stdout, 'exec-tty\r\n');
  assert.ok(engine.resizes.slice(before).some((x) => x.rows === 30 && x.cols === 90));
  await ok(['rm', '-f', 'ttyx']);
});
