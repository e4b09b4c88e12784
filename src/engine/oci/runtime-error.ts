/**
 * Turning an OCI runtime's complaint (crun or runc, plain stderr or
 * `--log-format=json` lines) into one clear message, and telling the caller
 * whether the container's executable was missing (Docker exit 127) or not
 * executable (126).
 */
import {
  ConflictError,
  type DroverError,
  InvalidError,
  NotFoundError,
  UnavailableError,
} from '../../lib/errors.ts';

/** Why a process could not be started: `not-found` → exit 127, `not-executable` → exit 126. */
export type StartFailure = 'not-found' | 'not-executable';

/** Raised when the container's (or an exec's) process could not be started at all. */
export class StartError extends InvalidError {
  override name = 'StartError';
  readonly reason: StartFailure;
  /** The exit code Docker reports for this failure (127 or 126). */
  readonly exitCode: number;
  constructor(message: string, reason: StartFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.exitCode = reason === 'not-found' ? 127 : 126;
  }
}

/** Extracts the error text from runtime output: the `msg` of JSON log lines, else the plain lines. */
export function runtimeMessage(output: string): string {
  const lines: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as { msg?: unknown; level?: unknown };
        if (
          typeof j.msg === 'string' &&
          (j.level === undefined || j.level === 'error' || j.level === 'fatal')
        ) {
          lines.push(j.msg);
        }
        continue;
      } catch {
        // not JSON after all: keep the text
      }
    }
    lines.push(line);
  }
  // runc prefixes every message with its own plumbing; it says nothing to a user.
  return lines
    .map((l) =>
      l
        .replace(/^(runc|crun) (create|run|start|exec) failed: /, '')
        .replace(/^unable to start container process: /, ''),
    )
    .join('; ')
    .trim();
}

/** Which start failure a runtime message describes, if any. */
export function classifyStartFailure(message: string): StartFailure | undefined {
  const m = message.toLowerCase();
  if (!/exec|executable|no such file|permission denied/.test(m)) return undefined;
  if (
    /not found in \$path|executable file not found|executable file `.*` not found|no such file or directory/.test(
      m,
    )
  ) {
    return 'not-found';
  }
  if (/permission denied|not executable|exec format error|is a directory/.test(m)) return 'not-executable';
  return undefined;
}

/**
 * Builds the error for a failed runtime command. `doing` is what was being
 * done (`creating container abc`); the class says what the caller can do.
 */
export function runtimeError(doing: string, output: string, cause?: unknown): DroverError {
  const msg = runtimeMessage(output) || 'the runtime gave no reason';
  const text = `${doing}: ${msg}`;
  const opts = cause === undefined ? undefined : { cause };
  const start = classifyStartFailure(msg);
  if (start && /^(creating|starting|exec)/.test(doing)) return new StartError(text, start, opts);
  const m = msg.toLowerCase();
  // crun says "error opening file `<root>/<id>/status`" for an id it does not know.
  if (/does not exist|not found|no such container|error opening file .*\/status`?: no such file/.test(m)) {
    return new NotFoundError(text, opts);
  }
  if (/already exists|exists already/.test(m)) return new ConflictError(text, opts);
  if (
    /not running|is paused|not paused|is not in created state|cannot .* in state|container not running|is stopped/.test(
      m,
    )
  ) {
    return new ConflictError(text, opts);
  }
  return new UnavailableError(text, opts);
}
