import type { Command } from 'commander';
import { describeError, InvalidError, UnavailableError } from '../../lib/errors.ts';
import { exitCodes } from '../exit-codes.ts';
import { DockerClient, isDaemonError, resolveHost } from './client.ts';

/** What a verb gets: the client and the process's stdio (tests pass their own). */
export interface Context {
  client: DockerClient;
  stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/**
 * A verb: positional arguments flattened (`rm a b` → ['a','b'], `run img cmd x`
 * → ['img','cmd','x']) and the command's own options. Returns the exit code.
 */
export type Verb = (
  ctx: Context,
  args: string[],
  opts: Record<string, unknown>,
) => Promise<number | undefined>;

/** run/create report like `docker run`: prefixed, with a help hint, exit 125. */
export type ErrorStyle = 'plain' | 'run';

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return `drover ${names.join(' ')}`;
}

/** Runs a verb and turns its errors into docker-like messages and exit codes. */
export async function invoke(cmd: Command, load: () => Promise<Verb>, style: ErrorStyle): Promise<number> {
  const stderr = process.stderr;
  // A reader that went away (`drover ps | head -1`): end quietly, like a Go CLI killed by SIGPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(exitCodes.brokenPipe);
  });
  try {
    const globals = cmd.optsWithGlobals() as { host?: string };
    const client = new DockerClient({
      socketPath: resolveHost(globals.host),
      version: process.env.DOCKER_API_VERSION,
    });
    const args = (cmd.processedArgs as unknown[]).flat().filter((a): a is string => typeof a === 'string');
    const verb = await load();
    const ctx: Context = { client, stdin: process.stdin, stdout: process.stdout, stderr, env: process.env };
    return (await verb(ctx, args, cmd.opts())) ?? exitCodes.ok;
  } catch (err) {
    return reportError(err, { stderr, style, command: commandPath(cmd) });
  }
}

/** Prints an error the way docker does and returns the exit code for it. */
export function reportError(
  err: unknown,
  opts: { stderr: NodeJS.WritableStream; style: ErrorStyle; command: string },
): number {
  const run = opts.style === 'run';
  const hint = run ? `\n\nRun '${opts.command} --help' for more information` : '';
  if (isDaemonError(err)) {
    const text = err.cause.inStream ? err.message : `Error response from daemon: ${err.message}`;
    opts.stderr.write(`${run ? 'drover: ' : ''}${text}${hint}\n`);
    return run ? exitCodes.daemon : 1;
  }
  if (err instanceof InvalidError) {
    opts.stderr.write(`drover: ${err.message}\nSee '${opts.command} --help'.\n`);
    return run ? exitCodes.daemon : exitCodes.usage;
  }
  if (err instanceof UnavailableError) {
    opts.stderr.write(`${run ? 'drover: ' : ''}${err.message}${hint}\n`);
    return run ? exitCodes.daemon : 1;
  }
  if ((err as NodeJS.ErrnoException).code === 'EPIPE') return exitCodes.brokenPipe;
  opts.stderr.write(`drover: ${describeError(err)}\n`);
  return opts.style === 'run' ? exitCodes.daemon : 1;
}
