import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '../../lib/errors.ts';

/**
 * A throwaway single-member etcd (Debian's etcd-server) on loopback ports with
 * a temporary data directory, for tests and benchmarks. `stop()` kills it and
 * removes the directory; call it in `after`, it is safe to call twice.
 */
export interface EtcdProcess {
  /** The client URL, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startEtcd(
  options: { binary?: string; readyTimeoutMs?: number } = {},
): Promise<EtcdProcess> {
  const binary = options.binary ?? '/usr/bin/etcd';
  const dir = mkdtempSync(join(tmpdir(), 'drv-storage-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let output = '';
  const child = spawn(
    binary,
    [
      '--name=drv-test',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=drv-test=${peer}`,
      '--logger=zap',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    await kill(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(client, child, options.readyTimeoutMs ?? 15_000);
  } catch (err) {
    await stop();
    throw new UnavailableError(`starting etcd: ${(err as Error).message}; output: ${output}`, { cause: err });
  }
  return { endpoint: client, stop };
}

async function waitHealthy(client: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`etcd exited (${child.exitCode})`);
    try {
      const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
      last = JSON.stringify(body);
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not healthy within ${timeoutMs} ms (${last})`);
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A port the kernel just handed out on loopback; free again when this returns (racy, fine for tests). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
