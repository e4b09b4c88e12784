/**
 * The kubelet's pod log layout, `<dir>/<namespace>_<pod>_<uid>/<container>/<attempt>.log`
 * (default dir /var/log/pods), for log shippers that read it. Each file is
 * a symlink to the engine's CRI-format log of that attempt (conmon writes it,
 * the engine rotates it), so `kubectl logs` (which reads through the engine,
 * `--previous` included) and rotation work as before; links of attempts the
 * agent has removed are pruned, and a pod's directory goes with the pod.
 */
import { mkdir, readdir, readlink, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../client/index.ts';
import type { EngineApi } from '../engine/types.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

export const defaultPodLogDir = '/var/log/pods';

export interface PodLogsOptions {
  dir: string;
  engine: Pick<EngineApi, 'inspectContainer'>;
  log: Logger;
}

export function podLogDirName(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name ?? ''}_${pod.metadata.uid ?? ''}`;
}

export class PodLogs {
  readonly #o: PodLogsOptions;

  constructor(o: PodLogsOptions) {
    this.#o = o;
  }

  /** Links `<container>/<attempt>.log` of the pod to the engine container's log; never throws. */
  async link(pod: Pod, container: string, attempt: number, containerId: string): Promise<void> {
    try {
      const dir = join(this.#o.dir, podLogDirName(pod), container);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const target = (await this.#o.engine.inspectContainer(containerId)).LogPath;
      const file = join(dir, `${attempt}.log`);
      await unlink(file).catch(() => undefined);
      await symlink(target, file);
      await this.#prune(dir);
    } catch (err) {
      this.#o.log.warn({ pod: pod.metadata.name, container, err: describeError(err) }, 'linking pod log');
    }
  }

  /** Removes the directory of the pod with this uid. */
  async remove(uid: string): Promise<void> {
    const entries = await readdir(this.#o.dir).catch(() => [] as string[]);
    for (const e of entries)
      if (e.endsWith(`_${uid}`)) await rm(join(this.#o.dir, e), { recursive: true, force: true });
  }

  /** Links whose container (and so its log) is gone. */
  async #prune(dir: string): Promise<void> {
    for (const f of await readdir(dir)) {
      const p = join(dir, f);
      const target = await readlink(p).catch(() => undefined);
      if (
        target &&
        !(await stat(target).then(
          () => true,
          () => false,
        ))
      )
        await unlink(p).catch(() => undefined);
    }
  }
}
