import {
  AlreadyExistsError,
  ConflictError,
  DroverError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../lib/errors.ts';
import type { Status } from './types.ts';

/**
 * The watched resourceVersion is older than the server keeps (HTTP 410 /
 * reason Expired or Gone). The caller must list again and watch from the new
 * list's resourceVersion; informers do this themselves.
 */
export class GoneError extends DroverError {
  override name = 'GoneError';
}

/** The `cause` of every error the client maps from a response: the server's Status as sent. */
export class StatusCause extends Error {
  override name = 'StatusCause';
  readonly status: Status;
  readonly code: number;
  constructor(code: number, status: Status) {
    super(status.message ?? `http ${code}`);
    this.code = code;
    this.status = status;
  }
}

/** The Status a client error carries, if it came from an API response. */
export function statusOf(err: unknown): Status | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    if (cur instanceof StatusCause) return cur.status;
    cur = cur.cause;
  }
  return undefined;
}

/**
 * Maps an HTTP code and Status to the closed set of error classes (lib/errors.ts)
 * plus GoneError; `what` says what was being done (`getting pods default/web`).
 * 409 is AlreadyExistsError when reason is AlreadyExists, else ConflictError.
 */
export function errorFromStatus(code: number, status: Status, what: string): DroverError {
  const cause = new StatusCause(code, status);
  const message = `${what}: ${status.message ?? status.reason ?? `http ${code}`}`;
  const opts = { cause };
  if (code === 404) return new NotFoundError(message, opts);
  if (code === 409) {
    return status.reason === 'AlreadyExists'
      ? new AlreadyExistsError(message, opts)
      : new ConflictError(message, opts);
  }
  if (code === 410 || status.reason === 'Expired' || status.reason === 'Gone') {
    return new GoneError(message, opts);
  }
  if (code === 400 || code === 422 || code === 415 || code === 405 || code === 406) {
    return new InvalidError(message, opts);
  }
  if (code === 401) return new UnauthorizedError(message, opts);
  if (code === 403) return new ForbiddenError(message, opts);
  if (code === 429) return new UnavailableError(message, opts);
  if (code === 412) return new ConflictError(message, opts);
  return new UnavailableError(message, opts);
}

/** Whether retrying the same request later may succeed (5xx, 429, connection failures). */
export function isRetryable(err: unknown): boolean {
  return err instanceof UnavailableError;
}
