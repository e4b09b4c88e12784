/**
 * `docker ps` with 100 containers and `docker logs` of a 100 MB log, through
 * the real docker CLI, against Drover's engine and Debian's dockerd 20.10 in
 * the same run (issue 3's speed section: no slower than dockerd).
 * dockerd runs the way the reference captures did: --bridge=none,
 * --iptables=false, its own data root and socket; containers use
 * --network none on both sides so the network path is not what is measured.
 * Run: node bench/dockerapi-ps-logs.ts   (root; dockerd from the docker.io package)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxArchive, fmt, median, ratio, startDaemon } from './engine-daemon.ts';

const containers = Number(process.argv[2] ?? 100);
const logBytes = 100_000_000;

interface Side {
  name: string;
  docker(args: string[]): { code: number; stdout: string; ms: number };
}

function dockerAt(host: string): Side['docker'] {
  return (args) => {
    const start = performance.now();
    const r = spawnSync('docker', ['-H', host, ...args], { encoding: 'buffer', maxBuffer: 1 << 30 });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} on ${host}: ${r.stderr.toString()}`);
    return { code: r.status ?? -1, stdout: r.stdout.toString('latin1').slice(0, 200), ms };
  };
}

async function startDockerd(): Promise<{ side: Side; stop(): Promise<void> } | undefined> {
  if (!existsSync('/usr/sbin/dockerd')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'drv-bench-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const child: ChildProcess = spawn(
    '/usr/sbin/dockerd',
    [
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--data-root',
      join(dir, 'root'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '--host',
      `unix://${sock}`,
    ],
    { stdio: 'ignore' },
  );
  process.once('exit', () => child.kill('SIGTERM'));
  const docker = dockerAt(`unix://${sock}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnSync('docker', ['-H', `unix://${sock}`, 'version'], { stdio: 'ignore' }).status === 0) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('dockerd did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  docker(['load', '-i', busyboxArchive]);
  return {
    side: { name: 'dockerd', docker },
    async stop() {
      const ids = spawnSync('docker', ['-H', `unix://${sock}`, 'ps', '-aq'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
      if (ids.length) spawnSync('docker', ['-H', `unix://${sock}`, 'rm', '-f', ...ids]);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      spawnSync('umount', ['-R', join(dir, 'root')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function measure(side: Side): { ps: number; logs: number; logsTail: number } {
  for (let i = 0; i < containers; i++)
    side.docker(['create', '--network', 'none', '--name', `c${i}`, 'busybox', 'true']);
  const ps = median(Array.from({ length: 10 }, () => side.docker(['ps', '-a']).ms));
  side.docker([
    'run',
    '--network',
    'none',
    '--name',
    'big',
    '--log-opt',
    'max-size=1g',
    'busybox',
    'sh',
    '-c',
    `yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c ${logBytes} >/dev/stdout`,
  ]);
  const logs = median(Array.from({ length: 3 }, () => side.docker(['logs', 'big']).ms));
  const logsTail = median(Array.from({ length: 5 }, () => side.docker(['logs', '--tail', '100', 'big']).ms));
  return { ps, logs, logsTail };
}

const drover = await startDaemon('pslogs');
const dockerd = await startDockerd();
try {
  const ours = measure({ name: 'drover', docker: dockerAt(`unix://${drover.socket}`) });
  const theirs = dockerd ? measure(dockerd.side) : undefined;
  const row = (what: string, a: number, b?: number) =>
    console.log(
      `${what.padEnd(34)} drover ${fmt(a).padStart(9)}   dockerd ${b === undefined ? '      n/a' : fmt(b).padStart(9)}   ${b === undefined ? '' : `ratio ${ratio(a, b)}`}`,
    );
  console.log(`docker CLI against each engine, ${containers} containers, a ${logBytes / 1e6} MB log`);
  row(`docker ps -a (${containers} containers)`, ours.ps, theirs?.ps);
  row('docker logs (100 MB)', ours.logs, theirs?.logs);
  row('docker logs --tail 100', ours.logsTail, theirs?.logsTail);
  if (!dockerd) console.log('dockerd not installed (apt-get install docker.io): no peer figures');
} finally {
  await drover.destroy();
  await dockerd?.stop();
}
