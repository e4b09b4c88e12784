/**
 * The nginx process manager's failure paths with a real nginx: a port held
 * by someone else (clear error, then served once it frees up), and an nginx
 * left behind by a killed agent (found by its pid file and replaced).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../lib/logger.ts';
import { findNginx, Nginx } from './nginx.ts';

const skip = findNginx() ? false : 'nginx is not installed';

function conf(dir: string, port: number): string {
  return `pid ${dir}/nginx.pid; worker_processes 1; error_log stderr warn; events {}
http { access_log off; client_body_temp_path ${dir}/tmp/cb; proxy_temp_path ${dir}/tmp/p;
  fastcgi_temp_path ${dir}/tmp/f; uwsgi_temp_path ${dir}/tmp/u; scgi_temp_path ${dir}/tmp/s;
  server { listen 127.0.0.1:${port} reuseport; location / { return 200 "ok\\n"; } } }
`;
}

function status(port: number): Promise<number> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a taken port is a clear error; nginx serves once the port frees up', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drv-ingress-nginx-'));
  const squatter = http.createServer((_req, res) => res.end('squatter'));
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const port = (squatter.address() as AddressInfo).port;
  const nginx = new Nginx({ dir, log: silentLogger() });
  try {
    await assert.rejects(
      nginx.apply(conf(dir, port), {}),
      /starting ingress nginx: .*Address already in use/s,
    );
    await new Promise((r) => squatter.close(r));
    await until('nginx restarted on the freed port', async () => (await status(port)) === 200);
  } finally {
    squatter.close();
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an nginx left behind by a killed run is stopped before a new one starts', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drv-ingress-nginx-'));
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  mkdirSync(join(dir, 'tmp'));
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, conf(dir, port));
  // A daemonised nginx with our configuration path, as a killed agent would leave it.
  execFileSync(findNginx() as string, ['-c', path, '-p', dir, '-e', 'stderr'], { stdio: 'ignore' });
  const orphan = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8'));
  assert.ok(alive(orphan));
  const nginx = new Nginx({ dir, log: silentLogger() });
  try {
    await nginx.apply(conf(dir, port), {});
    await until('the orphan gone', () => !alive(orphan));
    assert.notEqual(nginx.pid, orphan);
    assert.equal(await status(port), 200);
  } finally {
    await nginx.stop();
    if (alive(orphan)) process.kill(orphan, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
