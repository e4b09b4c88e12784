/** Host-side helpers the agent's pod hooks share: running a tool, and what is mounted. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { UnavailableError } from '../lib/errors.ts';

/** Runs `cmd`; rejects with its stderr when it fails. */
export function runCommand(cmd: string, args: string[]): Promise<void> {
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

/** Every mount point of this process's mount namespace, in mount order. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter(Boolean);
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}
