/**
 * The pod IPC hook: setup gives a pod one IPC namespace that all its
 * containers join (so System V IPC and POSIX message queues are shared, as
 * the pause container makes them in upstream pods), kept alive by a bind
 * mount of the namespace onto `<root>/<uid>` (the way `ip netns` keeps
 * network namespaces); teardown unmounts and removes it. hostIPC pods use the
 * host's. Idempotent; state is the mount itself, so it survives agent restarts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../lib/errors.ts';

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new UnavailableError(`${cmd} ${args.join(' ')}: ${err.trim()}`)),
    );
  });
}

function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

export class PodIpc {
  readonly root: string;
  /** Namespaces made or seen mounted by this process: steady-state syncs skip reading mountinfo. */
  readonly #known = new Set<string>();

  constructor(o: { root: string }) {
    this.root = o.root;
  }

  listPods(): string[] {
    return existsSync(this.root) ? readdirSync(this.root) : [];
  }

  /** The namespace's path (created when missing). */
  async setup(uid: string): Promise<string> {
    const path = join(this.root, uid);
    if (this.#known.has(uid)) return path;
    if (!isMounted(path)) {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await writeFile(path, '');
      await run('unshare', [`--ipc=${path}`, 'true']);
    }
    this.#known.add(uid);
    return path;
  }

  /**
   * For network.ts, which makes a new pod's IPC namespace in the same process
   * as its network namespace: the empty file to bind it to, or undefined when
   * the pod already has one (or a leftover file: setup() then looks).
   */
  async bindTarget(uid: string): Promise<string | undefined> {
    const path = join(this.root, uid);
    if (this.#known.has(uid) || existsSync(path)) return undefined;
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await writeFile(path, '');
    return path;
  }

  /** The namespace bound at bindTarget(uid) exists: setup() returns its path at once. */
  adopt(uid: string): void {
    this.#known.add(uid);
  }

  async teardown(uid: string): Promise<void> {
    this.#known.delete(uid);
    const path = join(this.root, uid);
    if (isMounted(path)) await run('umount', [path]).catch(() => run('umount', ['-l', path]));
    await rm(path, { force: true });
  }
}
