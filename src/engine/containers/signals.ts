/** Signal names and numbers as `docker kill --signal` and StopSignal accept them. */
import { InvalidError } from '../../lib/errors.ts';

/** `TERM`, `SIGTERM`, `15` → `SIGTERM`. */
export function normalizeSignal(signal: string): string {
  const s = signal.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const entry = Object.entries(signalNumbers).find(([, n]) => n === Number(s));
    if (!entry) throw new InvalidError(`Invalid signal: ${signal}`);
    return entry[0];
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  if (!(name in signalNumbers)) throw new InvalidError(`Invalid signal: ${signal}`);
  return name;
}

export function signalNumber(signal: string): string {
  return String(signalNumbers[normalizeSignal(signal)] ?? signal);
}

const signalNumbers: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};
