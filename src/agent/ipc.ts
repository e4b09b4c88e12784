import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMountPoint, runCommand } from './host-commands.ts';

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
    if (!isMountPoint(path)) {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await writeFile(path, '');
      await runCommand('unshare', [`--ipc=${path}`, 'true']);
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
    if (isMountPoint(path))
      await runCommand('umount', [path]).catch(() => runCommand('umount', ['-l', path]));
    await rm(path, { force: true });
  }
}
