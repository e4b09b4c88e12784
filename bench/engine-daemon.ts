/**
 * Shared by the engine benchmarks: a `drover engine` daemon with its own dirs
 * and kernel-object prefix, a minimal in-process Docker API client (the calls
 * the docker CLI makes, without the CLI's own start-up cost), and small
 * statistics and /proc helpers.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxArchive, droverBin, leftovers } from '../test/support/engine-daemon.ts';

export { busyboxArchive };

export interface BenchDaemon {
  dir: string;
  socket: string;
  prefix: string;
  child: ChildProcess;
  api: ApiClient;
  docker(args: string[]): { code: number; stdout: string; stderr: string; ms: number };
  /** Removes all containers, stops the daemon, cleans kernel objects; returns what was left. */
  destroy(): Promise<string[]>;
}

export async function startDaemon(
  name: string,
  opts: { logLevel?: string /** Another checkout's bin/drover, for before/after runs. */; bin?: string } = {},
): Promise<BenchDaemon> {
  const dir = mkdtempSync(join(tmpdir(), `drv-bench-${name}-`));
  const socket = join(dir, 'docker.sock');
  const prefix = `db${process.pid.toString(36).slice(-3)}${name.slice(0, 3)}`;
  const logFd = openSync(join(dir, 'daemon.log'), 'a');
  const child = spawn(
    opts.bin ?? droverBin,
    [
      '--log-level',
      opts.logLevel ?? 'warn',
      'engine',
      '--data-dir',
      join(dir, 'data'),
      '--run-dir',
      join(dir, 'run'),
      '--docker-socket',
      socket,
      '--name-prefix',
      prefix,
      '--load-image',
      busyboxArchive,
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  // A benchmark that throws must not leave the daemon running.
  process.once('exit', () => child.kill('SIGTERM'));
  const api = new ApiClient(socket);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) failStart(dir, child, 'exited');
    if (existsSync(socket) && (await api.call('GET', '/_ping').catch(() => null))?.status === 200) break;
    if (Date.now() > deadline) failStart(dir, child, 'did not come up');
    await new Promise((r) => setTimeout(r, 50));
  }
  const env = { ...process.env, DOCKER_CONFIG: join(dir, 'docker-config') };
  const d: BenchDaemon = {
    dir,
    socket,
    prefix,
    child,
    api,
    docker(args) {
      const t0 = performance.now();
      const r = spawnSync('docker', ['-H', `unix://${socket}`, ...args], { encoding: 'utf8', env });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
    },
    async destroy() {
      if (child.exitCode === null) {
        const list = await api.call('GET', '/containers/json?all=1');
        const ids = (JSON.parse(list.body) as { Id: string }[]).map((c) => c.Id);
        // A few at a time: each removal is mostly waiting on the kernel.
        for (let i = 0; i < ids.length; i += 8) {
          await Promise.all(
            ids.slice(i, i + 8).map((id) => api.call('DELETE', `/containers/${id}?force=1&v=1`)),
          );
        }
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      const left = leftovers(prefix, dir);
      spawnSync('nft', ['delete', 'table', 'ip', prefix]);
      spawnSync('ip', ['link', 'del', `${prefix}0`]);
      // The runtime's tmpfs state dir stays mounted when the daemon stops (conmon may outlive it).
      for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
        const mp = line.split(' ')[4];
        if (mp?.startsWith(dir)) spawnSync('umount', ['-l', mp]);
      }
      rmSync(dir, { recursive: true, force: true });
      return left;
    },
  };
  return d;
}

function failStart(dir: string, child: ChildProcess, what: string): never {
  const log = readLog(dir);
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`drover engine ${what}: ${log}`);
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'daemon.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/** The few Docker API calls the benchmarks need, over the unix socket. */
export class ApiClient {
  readonly socket: string;
  constructor(socket: string) {
    this.socket = socket;
  }

  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socket,
          agent: false,
          method,
          path: `/v1.41${path}`,
          headers: data
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
            : { 'content-length': 0 },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  async ok(method: string, path: string, body?: unknown): Promise<string> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return r.body;
  }

  /** Hijacked attach (stdout+stderr); resolves once the 101 arrives, with a promise of the output. */
  attach(id: string): Promise<{ output: Promise<Buffer> }> {
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.socket,
        agent: false,
        method: 'POST',
        path: `/v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1`,
        headers: { connection: 'Upgrade', upgrade: 'tcp', 'content-length': 0 },
      });
      req.on('upgrade', (_res, socket, head) => {
        const chunks: Buffer[] = [head];
        // Wrapped: resolving with a bare promise would wait for it.
        resolve({
          output: new Promise((done) => {
            socket.on('data', (c: Buffer) => chunks.push(c));
            socket.on('end', () => {
              socket.destroy();
              done(Buffer.concat(chunks));
            });
            socket.on('close', () => done(Buffer.concat(chunks)));
          }),
        });
      });
      req.on('response', (res) => reject(new Error(`attach: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** POST wait; resolves once the headers are in, with a promise of the exit code. */
  wait(id: string, condition: string): Promise<{ code: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socket,
          agent: false,
          method: 'POST',
          path: `/v1.41/containers/${id}/wait?condition=${condition}`,
          headers: { 'content-length': 0 },
        },
        (res) => {
          const chunks: Buffer[] = [];
          resolve({
            code: new Promise((done, fail) => {
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                done((JSON.parse(Buffer.concat(chunks).toString()) as { StatusCode: number }).StatusCode),
              );
              res.on('error', fail);
            }),
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** What `docker run --rm IMAGE CMD...` does, without a TTY or stdin. */
  async runRm(image: string, cmd: string[], hostConfig: Record<string, unknown> = {}): Promise<number> {
    const created = JSON.parse(
      await this.ok('POST', '/containers/create', {
        Image: image,
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { AutoRemove: true, ...hostConfig },
      }),
    ) as { Id: string };
    const [output, exit] = await Promise.all([this.attach(created.Id), this.wait(created.Id, 'removed')]);
    await this.ok('POST', `/containers/${created.Id}/start`);
    const [, code] = await Promise.all([output.output, exit.code]);
    return code;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

/** `VmRSS` of a process in KiB. */
export function rssKiB(pid: number): number {
  return Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
}

/** Rss and Pss of a process in KiB, from smaps_rollup. */
export function rollupKiB(pid: number): { rss: number; pss: number } {
  const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    rss: Number(/^Rss:\s*(\d+)/m.exec(s)?.[1] ?? Number.NaN),
    pss: Number(/^Pss:\s*(\d+)/m.exec(s)?.[1] ?? Number.NaN),
  };
}

export function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}
