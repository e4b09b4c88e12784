/**
 * One nginx master process as our child, driven by generated configuration:
 * `apply()` writes certificates and nginx.conf, checks them with `nginx -t`
 * (a failing configuration never replaces the running one), then starts
 * nginx or reloads it with SIGHUP. A reload starts new workers and lets the
 * old ones finish their connections (up to worker_shutdown_timeout), so
 * configuration changes drop nothing. An nginx that dies is restarted with
 * back-off; one left behind by a killed agent is found through its pid file
 * and stopped before a new one starts.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describeError, InvalidError, UnavailableError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

const run = promisify(execFile);
const setpriv = '/usr/bin/setpriv';

export interface NginxOptions {
  dir: string;
  log: Logger;
  /** Default: nginx from PATH, else /usr/sbin/nginx. */
  binary?: string;
}

/** The nginx binary, or undefined when it is not installed. */
export function findNginx(): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    const p = join(d, 'nginx');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * The user nginx workers run as: www-data when it can reach `dir` (temp
 * files of large bodies live there), root when an ancestor is closed to
 * others (e.g. a 0700 test directory).
 */
export function workerUser(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) return 'root';
    if (d === dirname(d)) break;
  }
  const passwd = readFileSync('/etc/passwd', 'utf8');
  return /^www-data:/m.test(passwd) ? 'www-data' : 'nobody';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids whose parent is `pid` (nginx workers outlive a SIGKILLed master). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export class Nginx {
  readonly #o: NginxOptions;
  readonly #bin: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #stopping = false;
  #lastConf: string | undefined;
  #lastCerts: Record<string, string> = {};
  #restartTimer: NodeJS.Timeout | undefined;
  #restartDelay = 500;
  #starting: Promise<void> | undefined;

  constructor(o: NginxOptions) {
    this.#o = o;
    const bin = o.binary ?? findNginx();
    if (!bin) throw new UnavailableError('starting the ingress data path: nginx is not installed');
    this.#bin = bin;
  }

  get confPath(): string {
    return join(this.#o.dir, 'nginx.conf');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Writes `certs` (file name -> PEM) and `conf`, tests them, then starts or reloads nginx. */
  async apply(conf: string, certs: Record<string, string>): Promise<void> {
    const dir = this.#o.dir;
    await mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, 'certs'), { recursive: true, mode: 0o700 });
    for (const [name, pem] of Object.entries(certs)) {
      if (this.#lastCerts[name] === pem) continue;
      const file = join(dir, 'certs', `${name}.pem`);
      await writeFile(`${file}.tmp`, pem, { mode: 0o600 });
      await rename(`${file}.tmp`, file);
    }
    const next = join(dir, 'nginx.conf.next');
    await writeFile(next, conf);
    try {
      await run(this.#bin, ['-t', '-q', '-c', next, '-p', dir, '-e', 'stderr']);
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? describeError(err)).trim();
      throw new InvalidError(`checking the ingress nginx configuration: ${stderr}`, { cause: err });
    }
    await rename(next, this.confPath);
    this.#lastConf = conf;
    this.#lastCerts = { ...certs };
    if (this.#child) this.#child.kill('SIGHUP');
    else await this.#start();
    await this.#removeStaleCerts(certs);
  }

  async #removeStaleCerts(certs: Record<string, string>): Promise<void> {
    for (const f of await readdir(join(this.#o.dir, 'certs')).catch(() => [] as string[])) {
      if (f.endsWith('.pem') && !(f.slice(0, -4) in certs) && f !== 'fallback.pem')
        await rm(join(this.#o.dir, 'certs', f), { force: true });
    }
  }

  /** Stops an nginx a previous (killed) run left behind with our pid file. */
  async #reapOrphan(): Promise<void> {
    const pidFile = join(this.#o.dir, 'nginx.pid');
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!pid || !isAlive(pid)) return;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(this.confPath)) return;
    this.#o.log.warn({ pid }, 'stopping an ingress nginx left behind by a previous run');
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, 3000))) this.#kill(pid);
  }

  #kill(pid: number): void {
    const workers = childrenOf(pid);
    for (const p of [pid, ...workers]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** One start at a time (the restart timer and apply() may both ask). */
  #start(): Promise<void> {
    this.#starting ??= this.#spawn().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #spawn(): Promise<void> {
    await this.#reapOrphan();
    if (this.#stopping) return;
    const pidFile = join(this.#o.dir, 'nginx.pid');
    await rm(pidFile, { force: true });
    const args = ['-c', this.confPath, '-p', this.#o.dir, '-e', 'stderr', '-g', 'daemon off;'];
    // setpriv --pdeathsig: if we die without stopping it, nginx gets SIGTERM
    // (a fast shutdown that takes its workers along) instead of holding the ports.
    const child = existsSync(setpriv)
      ? spawn(setpriv, ['--pdeathsig', 'TERM', '--', this.#bin, ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
        })
      : spawn(this.#bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    let tail = '';
    child.stderr?.on('data', (b: Buffer) => {
      const text = b.toString();
      tail = (tail + text).slice(-2000);
      for (const line of text.split('\n').filter(Boolean)) this.#o.log.warn({ nginx: line }, 'nginx');
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#stopping) return;
      this.#o.log.error({ code, signal, delayMs: this.#restartDelay }, 'ingress nginx exited; restarting');
      this.#scheduleRestart();
    });
    // nginx writes its pid file once it listens; exiting first means it could not (port taken...).
    const deadline = Date.now() + 10_000;
    while (!existsSync(pidFile)) {
      if (this.#child !== child)
        throw new UnavailableError(`starting ingress nginx: ${tail.trim() || 'it exited'}`);
      if (Date.now() > deadline) throw new UnavailableError('starting ingress nginx: no pid file after 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#restartDelay = 500;
  }

  #scheduleRestart(): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping || this.#child || this.#starting || this.#lastConf === undefined) return;
      this.#start().catch((err: unknown) => {
        this.#o.log.error({ err: describeError(err) }, 'restarting ingress nginx failed');
      });
    }, this.#restartDelay);
    this.#restartDelay = Math.min(this.#restartDelay * 2, 30_000);
  }

  /** Stops nginx (fast shutdown: open connections close). */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    await this.#starting?.catch(() => undefined);
    const child = this.#child;
    if (!child?.pid) return;
    child.kill('SIGTERM');
    const done = await Promise.race([
      this.#exited?.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!done) this.#kill(child.pid);
  }
}
