/**
 * The drover CLI against the Docker API server (src/dockerapi/) over its fake
 * engine: our client and our server end to end, no containers. Where the real
 * docker CLI is installed, the same commands run through both and their
 * output must match byte for byte (tables, templates, error text).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeEngine } from '../src/dockerapi/fake-engine.ts';
import { createDockerApiServer, type DockerApiServer } from '../src/dockerapi/server.ts';

const DROVER = join(import.meta.dirname, '..', 'bin', 'drover');
const DOCKER = '/usr/local/bin/docker';
let dir = '';
let server: DockerApiServer;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(bin: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      ['-H', `unix://${join(dir, 'docker.sock')}`, ...args],
      { env: { PATH: process.env.PATH ?? '', DOCKER_CONFIG: join(dir, 'config') }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

const drover = (args: string[], input?: string) => exec(DROVER, args, input);

async function ok(args: string[], input?: string): Promise<string> {
  const r = await drover(args, input);
  assert.equal(r.code, 0, `drover ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Relative times ("2 seconds ago", "Up 1 second") may tick between the two runs: compare them as cells. */
function untimed(text: string): string {
  return text
    .replace(/(About a|Less than a|\d+) (seconds?|minutes?|hours?|minute|second)( ago)?/g, 'T')
    .replace(/ {2,}/g, ' | ');
}

/** Runs the same command through docker and drover; stdout, stderr (client name aside) and exit code must match. */
async function sameAsDocker(t: { skip: (msg: string) => void }, args: string[]): Promise<void> {
  if (!existsSync(DOCKER)) return t.skip('no docker CLI here');
  const [d, o] = await Promise.all([exec(DOCKER, args), drover(args)]);
  if (/ago|Up /.test(d.stdout))
    assert.equal(untimed(o.stdout), untimed(d.stdout), `stdout of ${args.join(' ')}`);
  else assert.equal(o.stdout, d.stdout, `stdout of ${args.join(' ')}`);
  assert.equal(o.stderr.replaceAll('drover', 'docker'), d.stderr, `stderr of ${args.join(' ')}`);
  assert.equal(o.code, d.code, `exit code of ${args.join(' ')}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drv-cli-dockerapi-'));
  server = createDockerApiServer({ engine: new FakeEngine() });
  await server.listen(join(dir, 'docker.sock'));
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('run in the foreground: output demultiplexed, exit code passed through', async () => {
  const r = await drover(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 3);
});

test('run -i forwards stdin until EOF', async () => {
  const r = await drover(['run', '-i', '--rm', 'busybox', 'cat'], 'hello-stdin\n');
  assert.equal(r.stdout, 'hello-stdin\n');
  assert.equal(r.code, 0);
});

test('run failures: missing binary 127, missing image 125', async () => {
  const bad = await drover(['run', '--rm', 'busybox', '/nonexist']);
  assert.equal(bad.code, 127, bad.stderr);
  assert.match(bad.stderr, /no such file or directory/);
  const missing = await drover(['run', '--rm', 'nosuchimg']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /Unable to find image 'nosuchimg:latest' locally/);
});

test('run -d, ps, filters, formats, inspect -f', async () => {
  const id = (await ok(['run', '-d', '--name', 'web', '-l', 'tier=front', 'busybox', 'sleep'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await ok(['create', '--name', 'idle', 'busybox', 'true']);
  assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^web Up/m);
  const all = (await ok(['ps', '-a', '--format', '{{.Names}}'])).trim().split('\n');
  assert.ok(all.includes('idle') && all.includes('web'), all.join(','));
  assert.equal((await ok(['ps', '-q', '--filter', 'label=tier=front'])).trim(), id.slice(0, 12));
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.Name}}', 'web'])).trim(), 'running /web');
  assert.equal(
    (await ok(['inspect', '-f', '{{json .Config.Labels}}', id.slice(0, 8)])).trim(),
    '{"tier":"front"}',
  );
});

test('the same output as the docker CLI', async (t) => {
  for (const args of [
    ['ps'],
    ['ps', '-a', '--no-trunc'],
    ['ps', '-a', '--format', 'table {{.Names}}\\t{{.Image}}\\t{{.State}}'],
    ['ps', '-a', '-q'],
    ['images'],
    ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'],
    ['inspect', '-f', '{{.Name}} {{.Config.Cmd}} {{.HostConfig.RestartPolicy.Name}}', 'web'],
    ['port', 'web'],
    ['network', 'ls'],
    ['volume', 'ls'],
    ['images', '-a', '--no-trunc'],
    ['ps', '-a', '--format', 'json'],
    ['images', '--format', 'json'],
    ['network', 'ls', '--format', 'json'],
    ['volume', 'ls', '--format', 'json'],
    ['system', 'df'],
    ['stats', '--no-stream', 'web'],
    ['info', '-f', '{{.ServerVersion}} {{.OSType}}'],
    ['image', 'history', '--no-trunc', 'busybox'],
    ['image', 'history', 'busybox'],
    ['inspect', 'web'],
    ['inspect', 'busybox'],
    ['inspect', 'nosuch'],
    ['inspect', '--type', 'volume', 'nosuch'],
    ['network', 'inspect', 'none'],
    ['network', 'ls', '-q'],
    ['top', 'web'],
    ['diff', 'web'],
    ['logs', 'web'],
    ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.NetIO}} {{.BlockIO}} {{.PIDs}}', 'web'],
    ['start', 'nosuch'],
    ['stop', 'nosuch', 'web'],
    ['volume', 'rm', 'nosuch'],
    ['volume', 'inspect', 'nosuch'],
    ['image', 'inspect', 'nosuch'],
    ['logs', 'nosuch'],
    ['wait', 'nosuch'],
    ['kill', 'nosuch'],
    ['exec', 'web', 'sh', '-c', 'echo a; echo b >&2; exit 7'],
    ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
    ['run', '--rm', 'busybox', '/nonexist'],
    ['run', '--rm', 'nosuchimg'],
    ['rm', 'nonexist'],
  ]) {
    await sameAsDocker(t, args);
  }
});

test('lifecycle verbs', async () => {
  await ok(['rm', '-f', 'web', 'idle']);
  await ok(['run', '-d', '--name', 'lc', 'busybox', 'sleep']);
  assert.equal(await ok(['stop', 'lc']), 'lc\n');
  await ok(['start', 'lc']);
  await ok(['restart', 'lc']);
  await ok(['pause', 'lc']);
  assert.match(await ok(['ps', '--format', '{{.Status}}', '-f', 'name=lc']), /Paused/);
  await ok(['unpause', 'lc']);
  await ok(['rename', 'lc', 'lc2']);
  await ok(['kill', 'lc2']);
  assert.equal(await ok(['wait', 'lc2']), '137\n');
  const again = await drover(['kill', 'lc2']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^Error response from daemon: .*is not running/);
  assert.equal(await ok(['rm', 'lc2']), 'lc2\n');
  const gone = await drover(['rm', '-f', 'lc2']);
  assert.equal(gone.code, 0, 'rm -f tolerates a missing container');
});

test('logs keep stdout and stderr apart; --tail, -t', async () => {
  const id = (await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo one; echo two >&2; echo three'])).trim();
  assert.equal(await ok(['wait', id]), '0\n');
  const r = await drover(['logs', id]);
  assert.equal(r.stdout, 'one\nthree\n');
  assert.equal(r.stderr, 'two\n');
  assert.equal(await ok(['logs', '--tail', '1', id]), 'three\n');
  assert.match(await ok(['logs', '-t', '--tail', '1', id]), /^\d{4}-\d\d-\d\dT\S+Z three\n$/);
  await ok(['rm', id]);
});

test('exec: output, exit code, stdin, detached', async () => {
  await ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep']);
  const r = await drover(['exec', 'ex', 'sh', '-c', 'echo execout; echo execerr >&2; exit 7']);
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'execout\n');
  assert.equal(r.stderr, 'execerr\n');
  assert.equal(await ok(['exec', '-i', 'ex', 'cat'], 'hello-stdin\n'), 'hello-stdin\n');
  await ok(['exec', '-d', 'ex', 'sleep', '1']);
  await ok(['rm', '-f', 'ex']);
});

test('images: tag, history, rmi, import, save, load', async () => {
  assert.match(await ok(['images']), /busybox\s+latest/);
  await ok(['tag', 'busybox', 'mine:1']);
  assert.match(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /mine:1/);
  assert.match(await ok(['image', 'history', 'mine:1']), /Imported from -/);
  assert.match(await ok(['rmi', 'mine:1']), /Untagged: mine:1/);
  const imported = (await ok(['import', '-', 'imp:2'], 'a rootfs tarball')).trim();
  assert.match(imported, /^sha256:[0-9a-f]{64}$/);
  const tar = join(dir, 'save.tar');
  await ok(['save', '-o', tar, 'imp:2']);
  assert.equal(await readFile(tar, 'utf8'), 'fake-tar:imp:2');
  assert.match(await ok(['load', '-i', tar]), /Loaded image: imp:2/);
  const bad = join(dir, 'bad.tar');
  await writeFile(bad, 'not a tar');
  const r = await drover(['load', '-i', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not an image archive/);
});

test('networks and volumes', async () => {
  const nid = (await ok(['network', 'create', 'drv-cli-net'])).trim();
  assert.match(nid, /^[0-9a-f]{64}$/);
  assert.match(await ok(['network', 'ls']), /drv-cli-net\s+bridge\s+local/);
  assert.equal(await ok(['network', 'inspect', '-f', '{{.Name}}', 'drv-cli-net']), 'drv-cli-net\n');
  assert.equal(await ok(['network', 'rm', 'drv-cli-net']), 'drv-cli-net\n');
  assert.match((await drover(['network', 'rm', 'drv-cli-net'])).stderr, /network drv-cli-net not found/);
  assert.equal(await ok(['volume', 'create', 'drv-cli-vol']), 'drv-cli-vol\n');
  assert.match(await ok(['volume', 'ls']), /local\s+drv-cli-vol/);
  assert.equal(await ok(['volume', 'inspect', '-f', '{{.Driver}}', 'drv-cli-vol']), 'local\n');
  await ok(['volume', 'rm', 'drv-cli-vol']);
  assert.equal((await drover(['volume', 'inspect', 'drv-cli-vol'])).code, 1);
});

test('events --since/--until replays and ends', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['volume', 'create', 'drv-cli-evt']);
  const out = await ok([
    'events',
    '--since',
    String(since),
    '--until',
    String(since + 3),
    '--filter',
    'type=volume',
  ]);
  assert.match(out, /volume create drv-cli-evt \(driver=local\)/);
  await ok(['volume', 'rm', 'drv-cli-evt']);
});

test('events print exactly as docker prints them (nanosecond times, sorted attributes, json)', async (t) => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await ok(['volume', 'create', 'drv-cli-evt2']);
  await ok(['volume', 'rm', 'drv-cli-evt2']);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  await sameAsDocker(t, ['events', '--since', since, '--until', until]);
  await sameAsDocker(t, ['events', '--since', since, '--until', until, '--format', '{{json .}}']);
  await sameAsDocker(t, [
    'events',
    '--since',
    since,
    '--until',
    until,
    '--format',
    '{{.Type}} {{.Action}} {{.Actor.ID}}',
  ]);
});

test('cp to the container, stats --no-stream, top, diff, port', async () => {
  await ok(['run', '-d', '--name', 'cpc', 'busybox', 'sleep']);
  const src = join(dir, 'hostfile.txt');
  await writeFile(src, 'hello from the host');
  await ok(['cp', src, 'cpc:/tmp/']);
  const missing = await drover(['cp', 'cpc:/nonexist', dir]);
  assert.match(missing.stderr, /Could not find the file \/nonexist in container cpc/);
  assert.match(await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'cpc']), /^cpc 1$/m);
  assert.match(await ok(['top', 'cpc']), /4242/);
  assert.match(await ok(['diff', 'cpc']), /C \/tmp/);
  assert.equal(await ok(['port', 'cpc']), '');
  await ok(['rm', '-f', 'cpc']);
});

test('version and info', async () => {
  assert.match(await ok(['version']), /API version:\s+1\.41 \(minimum version 1\.12\)/);
  assert.match(await ok(['info']), /Server Version: 0\.1\.0-fake/);
});

test('inspect of an unknown object: [] and an error', async () => {
  const r = await drover(['inspect', 'nosuch']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '[]\n');
  assert.match(r.stderr, /Error: No such object: nosuch/);
});
