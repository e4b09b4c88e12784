/**
 * The closed set of errors Drover's layers raise. Callers branch on the class,
 * never on message text; each protocol edge (apiserver, dockerapi, registry,
 * CLI) maps them to its own wire format exactly once.
 * Messages are lower-case and say what was being done.
 */
export class DroverError extends Error {
  override name = 'DroverError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The named thing does not exist (Docker 404, Kubernetes NotFound). */
export class NotFoundError extends DroverError {
  override name = 'NotFoundError';
}

/** Creating something whose name is taken (Docker 409, Kubernetes AlreadyExists). */
export class AlreadyExistsError extends DroverError {
  override name = 'AlreadyExistsError';
}

/** The operation clashes with the current state (running, in use, stale revision). */
export class ConflictError extends DroverError {
  override name = 'ConflictError';
}

/** The request itself is malformed (Docker 400, Kubernetes Invalid/BadRequest). */
export class InvalidError extends DroverError {
  override name = 'InvalidError';
}

/** The caller is known but not allowed. */
export class ForbiddenError extends DroverError {
  override name = 'ForbiddenError';
}

/** The caller is not authenticated. */
export class UnauthorizedError extends DroverError {
  override name = 'UnauthorizedError';
}

/** A dependency (runtime, datastore, network) failed or is not ready; retrying may help. */
export class UnavailableError extends DroverError {
  override name = 'UnavailableError';
}

/** Wraps any thrown value so that it keeps its class when it already is one of ours. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
