import { InvalidError } from '../lib/errors.ts';

/**
 * Exit codes scripts can rely on. They follow docker's CLI: a container's own
 * exit code passes through; 125 means the daemon or the command failed;
 * 126 the command could not be invoked; 127 it was not found.
 */
export const exitCodes = {
  ok: 0,
  usage: 2,
  daemon: 125,
  cannotInvoke: 126,
  notFound: 127,
  /** stdout's reader went away (128 + SIGPIPE), as a shell reports a CLI killed by SIGPIPE. */
  brokenPipe: 141,
  failure(err: unknown): number {
    return err instanceof InvalidError ? exitCodes.usage : 1;
  },
};
