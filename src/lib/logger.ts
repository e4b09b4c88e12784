import { type Logger, pino } from 'pino';

export type { Logger };

import type { LogLevel } from './log-levels.ts';

export { type LogLevel, logLevels } from './log-levels.ts';

/**
 * The one structured logger. Components receive a child with their context
 * (`log.child({ component: 'engine' })`); nothing logs through a global.
 * Logs go to stderr so that command output on stdout stays scriptable.
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
