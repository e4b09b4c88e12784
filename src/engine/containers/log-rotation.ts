import { rename, stat, truncate } from 'node:fs/promises';
import { InvalidError } from '../../lib/errors.ts';
import type { HostConfig } from '../types.ts';

/** Docker's json-file options `max-size` and `max-file`, applied to conmon's CRI log. */
export interface LogLimits {
  /** Bytes; 0 = unlimited. */
  maxSize: number;
  /** Files kept including the live one (>= 1). */
  maxFiles: number;
}

export const defaultLogLimits: LogLimits = { maxSize: 100 * 1024 * 1024, maxFiles: 2 };

/** Reads `--log-opt max-size=10m --log-opt max-file=3`; other drivers than ours are refused. */
export function logLimits(
  config: HostConfig['LogConfig'],
  defaults: LogLimits = defaultLogLimits,
): LogLimits {
  const type = config?.Type ?? '';
  if (type && !['json-file', 'k8s-file', 'local'].includes(type)) {
    throw new InvalidError(`logging driver "${type}" is not supported (use json-file or k8s-file)`);
  }
  const opts = config?.Config ?? {};
  const maxSize = opts['max-size'] !== undefined ? parseSize(opts['max-size']) : defaults.maxSize;
  const maxFiles = opts['max-file'] !== undefined ? Number(opts['max-file']) : defaults.maxFiles;
  if (!Number.isInteger(maxFiles) || maxFiles < 1)
    throw new InvalidError(`invalid max-file: ${opts['max-file']}`);
  return { maxSize, maxFiles };
}

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw new InvalidError(`invalid max-size: ${text} (use a size such as 10m)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

/** The rotated files that exist, oldest first (`ctr.log.2`, `ctr.log.1`), without the live one. */
export async function rotatedFiles(logPath: string, limits: LogLimits): Promise<string[]> {
  const out: string[] = [];
  for (let i = limits.maxFiles - 1; i >= 1; i--) {
    const p = `${logPath}.${i}`;
    if (
      await stat(p).then(
        () => true,
        () => false,
      )
    )
      out.push(p);
  }
  return out;
}

/**
 * Rotates the live log once it passes maxSize: shifts `.1` → `.2` ..., moves
 * the live file to `.1` and asks conmon to reopen (`reopen`). With one file
 * the log is truncated instead. Readers following the old file notice the
 * new inode and move on (logs.ts).
 */
export async function rotateIfNeeded(
  logPath: string,
  limits: LogLimits,
  reopen: () => Promise<void>,
): Promise<boolean> {
  if (limits.maxSize <= 0) return false;
  const size = await stat(logPath).then(
    (s) => s.size,
    () => 0,
  );
  if (size < limits.maxSize) return false;
  if (limits.maxFiles === 1) {
    await truncate(logPath, 0);
    return true;
  }
  for (let i = limits.maxFiles - 1; i >= 2; i--) {
    await rename(`${logPath}.${i - 1}`, `${logPath}.${i}`).catch(() => undefined);
  }
  await rename(logPath, `${logPath}.1`);
  await reopen();
  return true;
}
