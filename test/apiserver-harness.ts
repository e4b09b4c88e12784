import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A `drover server` child process with its own data dir, kubeconfig and kubectl HOME. */
export interface TestServer {
  dir: string;
  kubeconfig: string;
  url: string;
  pid: number;
  /** Milliseconds from spawn to the first successful `kubectl get ns`. */
  readyMs: number;
  kubectl(args: string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  /** SIGTERM, wait, and remove the data dir (unless `keepDir`). */
  stop(): Promise<void>;
  /** SIGKILL the server and wait for it; the data dir stays. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion (SIGKILL after `timeoutMs`, default 30 s) and collects its output. */
export function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

export async function startServer(opts: {
  datastore: 'sqlite' | 'etcd' | 'memory';
  etcdEndpoint?: string;
  /** Reuse this data dir (restart tests); it is then kept on stop. */
  dir?: string;
  port?: number;
}): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'drv-apiserver-test-'));
  const home = path.join(dir, 'home');
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const port = opts.port ?? (await freePort());
  const args = [
    'server',
    '--no-agent',
    // The API machinery on its own: objects stay exactly as the tests write them.
    '--disable-scheduler',
    '--disable-controllers',
    '--data-dir',
    dir,
    '--https-listen',
    `127.0.0.1:${port}`,
    '--datastore',
    opts.datastore,
  ];
  if (opts.etcdEndpoint) args.push('--etcd-endpoints', opts.etcdEndpoint);
  const started = performance.now();
  const child = spawn(path.join(root, 'bin/drover'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-8000);
  });
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig };
  const kubectl = (a: string[], o: { stdin?: string; env?: Record<string, string> } = {}) =>
    run('/usr/bin/kubectl', a, { stdin: o.stdin, env: { ...env, ...o.env } });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(killTimer);
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  };
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`drover server exited early: ${log}`);
      if (existsSync(kubeconfig)) {
        const r = await kubectl(['get', 'ns']);
        if (r.code === 0) break;
      }
      if (Date.now() > deadline) throw new Error(`drover server did not become ready: ${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const readyMs = performance.now() - started;
  return {
    dir,
    kubeconfig,
    url: `https://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    readyMs,
    kubectl,
    stop,
    kill,
  };
}
