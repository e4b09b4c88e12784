import type { FieldError } from '../api/resource.ts';
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../lib/errors.ts';
import { CompactedError } from '../storage/store.ts';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: FieldError[];
  retryAfterSeconds?: number;
}

/** A Kubernetes `Status` with its HTTP code; thrown by handlers, rendered once in `toStatus`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export const badRequest = (msg: string) => new ApiError(400, 'BadRequest', msg);
export const methodNotAllowed = (msg: string) => new ApiError(405, 'MethodNotAllowed', msg);
export const unsupportedMediaType = (type: string) =>
  new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${type})`,
  );
export const notFoundStatus = (resource: string, name: string, group = '') =>
  new ApiError(404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });
export const expired = (msg: string) => new ApiError(410, 'Expired', msg);

/** What the error was about, to fill Status details and upstream-style messages. */
export interface ErrorContext {
  /** Qualified resource, e.g. `deployments.apps`. */
  resource?: string;
  group?: string;
  plural?: string;
  /** Qualified kind for Invalid, e.g. `Deployment.apps`. */
  kind?: string;
  name?: string;
}

/**
 * Maps any thrown value to a Status exactly once (the apiserver's only error
 * edge). lib/errors classes keep their meaning; anything else is a 500.
 */
export function toStatus(err: unknown, ctx: ErrorContext = {}): StatusObject {
  const base = {
    kind: 'Status' as const,
    apiVersion: 'v1' as const,
    metadata: {},
    status: 'Failure' as const,
  };
  const details: StatusDetails = { name: ctx.name, group: ctx.group, kind: ctx.plural };
  const res = ctx.resource ?? 'object';
  const name = ctx.name ?? '';
  if (err instanceof ApiError)
    return { ...base, message: err.message, reason: err.reason, details: err.details, code: err.code };
  if (err instanceof CompactedError)
    return { ...base, message: `too old resource version: ${err.message}`, reason: 'Expired', code: 410 };
  if (err instanceof NotFoundError)
    return { ...base, message: `${res} "${name}" not found`, reason: 'NotFound', details, code: 404 };
  if (err instanceof AlreadyExistsError) {
    return {
      ...base,
      message: `${res} "${name}" already exists`,
      reason: 'AlreadyExists',
      details,
      code: 409,
    };
  }
  if (err instanceof ConflictError) {
    const message = `Operation cannot be fulfilled on ${res} "${name}": the object has been modified; please apply your changes to the latest version and try again`;
    return { ...base, message, reason: 'Conflict', details, code: 409 };
  }
  if (err instanceof InvalidError) return { ...base, message: err.message, reason: 'BadRequest', code: 400 };
  if (err instanceof ForbiddenError)
    return { ...base, message: err.message, reason: 'Forbidden', details, code: 403 };
  if (err instanceof UnauthorizedError)
    return { ...base, message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
  if (err instanceof UnavailableError)
    return { ...base, message: err.message, reason: 'ServiceUnavailable', code: 503 };
  const message = err instanceof Error ? err.message : String(err);
  return { ...base, message: `Internal error occurred: ${message}`, reason: 'InternalError', code: 500 };
}

/** 422 Invalid with field causes, worded like upstream's `NewInvalid`. */
export function invalidStatus(kind: string, name: string, group: string, errors: FieldError[]): ApiError {
  const parts = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = parts.length === 1 ? (parts[0] ?? '') : `[${parts.join(', ')}]`;
  const plainKind = kind.split('.')[0] ?? kind;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind: plainKind,
    causes: errors,
  });
}

export function successStatus(details?: StatusDetails): StatusObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
