import type { HostConfig } from '../types.ts';

/** Docker's restart back-off: 100 ms doubling up to a minute, reset after 10 s of running. */
export const restartBackoff = { initialMs: 100, maxMs: 60_000, resetAfterMs: 10_000 };

export interface ExitFacts {
  exitCode: number;
  /** The user stopped or killed it (stop, kill, restart, rm, daemon shutdown of a user stop). */
  stoppedByUser: boolean;
  restartCount: number;
  autoRemove: boolean;
}

/** Whether a container that just exited should be started again by its policy. */
export function shouldRestart(policy: HostConfig['RestartPolicy'], facts: ExitFacts): boolean {
  if (facts.autoRemove || facts.stoppedByUser) return false;
  switch (policy?.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure': {
      if (facts.exitCode === 0) return false;
      const max = policy.MaximumRetryCount ?? 0;
      return max === 0 || facts.restartCount < max;
    }
    default:
      return false;
  }
}

/** Whether the daemon should start a container at its own start (it was running, or always). */
export function shouldStartOnBoot(policy: HostConfig['RestartPolicy'], stoppedByUser: boolean): boolean {
  if (stoppedByUser) return false;
  return policy?.Name === 'always' || policy?.Name === 'unless-stopped';
}

/** Delay before the next restart, given how long the last run lasted. */
export function nextDelay(previousDelayMs: number, ranForMs: number): number {
  if (ranForMs >= restartBackoff.resetAfterMs || previousDelayMs === 0) return restartBackoff.initialMs;
  return Math.min(previousDelayMs * 2, restartBackoff.maxMs);
}

/** Parses `no`, `always`, `unless-stopped`, `on-failure[:N]` into Docker's RestartPolicy. */
export function validateRestartPolicy(policy: HostConfig['RestartPolicy']): string | undefined {
  const name = policy?.Name ?? '';
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
    return `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'unless-stopped', and 'on-failure'`;
  }
  if (name !== 'on-failure' && (policy?.MaximumRetryCount ?? 0) > 0) {
    return `invalid restart policy: maximum retry count can only be used with 'on-failure'`;
  }
  if ((policy?.MaximumRetryCount ?? 0) < 0)
    return 'invalid restart policy: maximum retry count cannot be negative';
  return undefined;
}
