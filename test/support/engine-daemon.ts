import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('../..', import.meta.url).pathname;
export const droverBin = join(repo, 'bin/drover');
export const busyboxArchive = join(repo, '.images/busybox.tar');

export interface EngineDaemon {
  dir: string;
  socket: string;
  host: string;
  prefix: string;
  logFile: string;
  child: ChildProcess;
  /** Runs the real docker CLI against this daemon. */
  docker(
    args: string[],
    opts?: { input?: string; timeoutMs?: number },
  ): { code: number; stdout: string; stderr: string };
  stop(): Promise<void>;
  /** Stops the daemon without removing containers (they keep running under conmon). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  /** Removes every container, stops the daemon and checks nothing of it is left in the kernel. */
  destroy(): Promise<string[]>;
}

/**
 * Starts `drover engine` as a child with its own data dir, socket and kernel
 * object names, and the local busybox image loaded.
 */
export async function startEngine(name: string): Promise<EngineDaemon> {
  const dir = mkdtempSync(join(tmpdir(), `drv-${name}-`));
  const socket = join(dir, 'docker.sock');
  const prefix = `dt${process.pid.toString(36).slice(-3)}${name.slice(0, 3)}`;
  const logFile = join(dir, 'daemon.log');
  const args = [
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
  ];
  const d: EngineDaemon = {
    dir,
    socket,
    host: `unix://${socket}`,
    prefix,
    logFile,
    child: undefined as unknown as ChildProcess,
    docker(dockerArgs, opts = {}) {
      const r = spawnSync('docker', ['-H', d.host, ...dockerArgs], {
        input: opts.input,
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 60_000,
        env: { ...process.env, DOCKER_CONFIG: join(dir, 'docker-config') },
      });
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    async stop() {
      await d.kill('SIGTERM');
    },
    async kill(signal = 'SIGTERM') {
      if (d.child.exitCode !== null || d.child.signalCode !== null) return;
      const exited = new Promise((resolve) => d.child.once('exit', resolve));
      d.child.kill(signal);
      await exited;
    },
    async restart() {
      await d.kill('SIGTERM');
      await launch();
    },
    async destroy() {
      if (d.child.exitCode === null && d.child.signalCode === null) {
        const ids = d.docker(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
        if (ids.length) d.docker(['rm', '-f', '-v', ...ids]);
        d.docker(['network', 'prune', '-f']);
        await d.stop();
      }
      const left = leftovers(prefix, dir);
      // Every container this daemon ran had a cgroup under /drover; none may remain.
      for (const id of containerIdsSeen(logFile)) {
        for (const root of [
          '/sys/fs/cgroup/memory/drover',
          '/sys/fs/cgroup/pids/drover',
          '/sys/fs/cgroup/drover',
        ]) {
          if (existsSync(join(root, id))) left.push(`cgroup ${join(root, id)}`);
        }
      }
      cleanupKernel(prefix, dir);
      rmSync(dir, { recursive: true, force: true });
      return left;
    },
  };
  async function launch() {
    const child = spawn(droverBin, ['--log-level', 'debug', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    d.child = child;
    const chunks: Buffer[] = [];
    const log = createWriteStream(logFile, { flags: 'a' });
    let starting = true;
    child.stderr!.on('data', (c: Buffer) => {
      if (starting) chunks.push(c);
      log.write(c);
    });
    child.once('exit', () => log.end());
    const deadline = Date.now() + 30_000;
    while (!(existsSync(socket) && d.docker(['version', '--format', '{{.Server.Version}}']).code === 0)) {
      if (child.exitCode !== null) {
        throw new Error(`drover engine exited (${child.exitCode}): ${Buffer.concat(chunks).toString()}`);
      }
      if (Date.now() > deadline)
        throw new Error(`drover engine did not come up: ${Buffer.concat(chunks).toString()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    starting = false;
    chunks.length = 0;
  }
  await launch();
  return d;
}

/** Container ids from the daemon's debug log ("container created" lines). */
function containerIdsSeen(logFile: string): string[] {
  const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  return [...new Set([...text.matchAll(/"container":"([0-9a-f]{64})"/g)].map((m) => m[1]!))];
}

/** Kernel objects and processes of this daemon still present. */
export function leftovers(prefix: string, dir: string): string[] {
  const out: string[] = [];
  const netns = existsSync('/run/netns')
    ? readdirSync('/run/netns').filter((n) => n.startsWith(`${prefix}-`))
    : [];
  out.push(...netns.map((n) => `netns ${n}`));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((l) => l.startsWith(`${prefix}-`));
  out.push(...links.map((l) => `link ${l}`));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    // The runtime's state tmpfs stays mounted by design (like /run); the rest must go.
    .filter((l) => l.split(' ')[4]?.startsWith(dir) && l.split(' ')[4] !== join(dir, 'run/oci'));
  out.push(...mounts.map((m) => `mount ${m.split(' ')[4]}`));
  const conmons = spawnSync('pgrep', ['-f', `conmon.*${dir}`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);
  out.push(...conmons.map((p) => `conmon ${p}`));
  return out;
}

function cleanupKernel(prefix: string, dir: string): void {
  spawnSync('nft', ['delete', 'table', 'ip', prefix]);
  spawnSync('ip', ['link', 'del', `${prefix}0`]);
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
    if (n.startsWith(`${prefix}-`)) spawnSync('ip', ['netns', 'del', n]);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp?.startsWith(dir)) spawnSync('umount', ['-l', mp]);
  }
}
