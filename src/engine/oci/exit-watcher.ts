/**
 * Notification of container exits without polling: conmon writes
 * `<exitDir>/<id>` (the exit code as text) when the container's init exits, and
 * one fs.watch (inotify) on the directory wakes the waiters. The watch is set
 * before the file is first checked, so an exit between the two is not missed.
 */
import { type FSWatcher, mkdirSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export class ExitWatcher {
  readonly #dir: string;
  #watcher: FSWatcher | undefined;
  readonly #waiters = new Map<string, Set<(code: number) => void>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The exit code conmon recorded for `id`, or undefined while it has not exited (or is unknown). */
  async read(id: string): Promise<number | undefined> {
    try {
      const text = (await readFile(join(this.#dir, id), 'utf8')).trim();
      if (text === '') return undefined;
      const code = Number(text);
      return Number.isFinite(code) ? code : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Resolves with the exit code once `<dir>/<id>` exists. `signal` aborts the
   * wait (rejecting with the abort reason). Only waits while someone is waiting:
   * the inotify watch is closed when the last waiter leaves.
   */
  async wait(id: string, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    return new Promise<number>((resolve, reject) => {
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        this.#removeWaiter(id, finish);
        signal?.removeEventListener('abort', onAbort);
        resolve(code);
      };
      const onAbort = () => {
        if (done) return;
        done = true;
        this.#removeWaiter(id, finish);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let set = this.#waiters.get(id);
      if (!set) {
        set = new Set();
        this.#waiters.set(id, set);
      }
      set.add(finish);
      try {
        this.#ensureWatch();
      } catch (err) {
        done = true;
        this.#removeWaiter(id, finish);
        reject(err);
        return;
      }
      this.read(id).then(
        (code) => code !== undefined && finish(code),
        (err: unknown) => {
          if (done) return;
          done = true;
          this.#removeWaiter(id, finish);
          reject(err);
        },
      );
    });
  }

  /** Stops watching (pending waits stay pending). */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #ensureWatch(): void {
    if (this.#watcher) return;
    mkdirSync(this.#dir, { recursive: true });
    const w = watch(this.#dir, { persistent: true }, (_event, name) => {
      if (!name) {
        // Overflow or unnamed event: re-check everyone.
        for (const id of this.#waiters.keys()) this.#check(id);
        return;
      }
      if (this.#waiters.has(name)) this.#check(name);
    });
    w.on('error', () => {
      // The directory vanished or inotify failed: re-arm on the next wait.
      this.close();
    });
    this.#watcher = w;
  }

  #check(id: string): void {
    this.read(id).then(
      (code) => {
        if (code === undefined) return;
        for (const f of [...(this.#waiters.get(id) ?? [])]) f(code);
      },
      () => {},
    );
  }

  #removeWaiter(id: string, f: (code: number) => void): void {
    const set = this.#waiters.get(id);
    if (!set) return;
    set.delete(f);
    if (set.size === 0) this.#waiters.delete(id);
    if (this.#waiters.size === 0) this.close();
  }
}
