import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidError } from '../../lib/errors.ts';

const run = promisify(execFile);

/** The pids in a container's cgroup (any one hierarchy lists them all). */
export async function cgroupPids(dirs: string[]): Promise<number[]> {
  for (const dir of dirs) {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      return text
        .split('\n')
        .filter(Boolean)
        .map((s) => Number(s));
    }
  }
  return [];
}

/**
 * `docker top`: runs the host's `ps` with the caller's arguments (default
 * `-ef`) and keeps the rows whose PID belongs to the container, as Docker does.
 */
export async function topProcesses(
  pids: number[],
  psArgs = '-ef',
): Promise<{ Titles: string[]; Processes: string[][] }> {
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
  let stdout: string;
  try {
    ({ stdout } = await run('ps', args, { maxBuffer: 16 << 20 }));
  } catch (err) {
    throw new InvalidError(`ps: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, {
      cause: err,
    });
  }
  const lines = stdout.split('\n').filter(Boolean);
  const header = lines.shift() ?? '';
  const titles = header.trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new InvalidError(`Couldn't find PID field in ps output`);
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines) {
    // The last column (CMD/COMMAND) may contain spaces: split only the leading fields.
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (wanted.has(Number(row[pidIndex]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
