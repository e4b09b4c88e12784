/**
 * docker-compose 1.29 (Debian's package, docker-py 5.0.3 inside) drives the
 * engine: a two-service project whose web service serves a named volume on a
 * published port and whose worker reaches it by service name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EngineDaemon, startEngine } from './support/engine-daemon.ts';

let d: EngineDaemon;
const project = mkdtempSync(join(tmpdir(), 'drv-compose-'));
let port = 0;

before(async () => {
  d = await startEngine('cmp');
  port = 20000 + (process.pid % 10000);
  writeFileSync(
    join(project, 'docker-compose.yml'),
    `version: "3.8"
services:
  web:
    image: busybox
    command: ["sh", "-c", "[ -f /www/index.html ] || echo page-$$RANDOM > /www/index.html; exec httpd -f -p 80 -h /www"]
    ports:
      - "127.0.0.1:${port}:80"
    volumes:
      - webdata:/www
    labels:
      app: demo
    # With an init, SIGTERM reaches httpd (PID 1 would ignore it) and stop is immediate.
    init: true
  worker:
    image: busybox
    stop_grace_period: 1s
    command: sh -c 'while true; do wget -q -O - http://web/ && echo worker-ok; sleep 0.5; done'
    depends_on:
      - web
volumes:
  webdata:
`,
  );
});

after(async () => {
  compose(['down', '-v']);
  const left = await d.destroy();
  rmSync(project, { recursive: true, force: true });
  assert.deepEqual(left, []);
});

function compose(args: string[]): { code: number; out: string } {
  const r = spawnSync('docker-compose', ['-p', 'drvtest', ...args], {
    cwd: project,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DOCKER_HOST: d.host, COMPOSE_INTERACTIVE_NO_CLI: '1' },
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function ok(args: string[]): string {
  const r = compose(args);
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.out}`);
  return r.out;
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function page(): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return res.ok ? (await res.text()).trim() : undefined;
  } catch {
    return undefined;
  }
}

test('up, ps, logs, exec, restart, scale, down, down -v', async () => {
  ok(['up', '-d']);
  const first = await until('the page on the published port', page);
  assert.match(first, /^page-\d+$/);
  assert.match(ok(['ps']), /drvtest_web_1.*Up.*127\.0\.0\.1:\d+->80\/tcp/);
  // The worker reaches web by its service name.
  await until('the worker fetching web by name', () => ok(['logs', 'worker']).includes(first));
  assert.equal(ok(['exec', '-T', 'web', 'cat', '/www/index.html']).trim(), first);
  ok(['restart', 'worker']);
  ok(['up', '-d', '--scale', 'worker=2']);
  assert.equal(ok(['ps', '-q', 'worker']).trim().split('\n').length, 2);
  ok(['down']);
  assert.equal(d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=drvtest']).stdout, '');
  // The named volume survives `down`: the same page comes back.
  ok(['up', '-d']);
  assert.equal(await until('the page after down/up', page), first);
  ok(['down', '-v']);
  assert.doesNotMatch(d.docker(['volume', 'ls', '-q']).stdout, /drvtest_webdata/);
});
