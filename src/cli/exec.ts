import fs from 'node:fs';
import type { ContainerInspect, ExecInspect } from '../engine/types.ts';
import { ConflictError, InvalidError } from '../lib/errors.ts';
import { defaultDetachKeys, parseDetachKeys } from './docker/detach-keys.ts';
import type { Context } from './docker/invoke.ts';
import { followResize, relaySession, withRawTerminal } from './docker/session.ts';
import { readKeyValueFile } from './run-flags.ts';

interface ExecOptions {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
  detachKeys?: string;
}

/** The body of POST /containers/{id}/exec, as the docker CLI sends it. */
export function execBody(
  command: string[],
  opts: ExecOptions,
  readFile: (f: string) => string = (f) => fs.readFileSync(f, 'utf8'),
) {
  const env = [...(opts.envFile ?? []).flatMap((f) => readKeyValueFile(readFile(f))), ...(opts.env ?? [])];
  const detach = opts.detach === true;
  return {
    User: opts.user ?? '',
    Privileged: opts.privileged === true,
    Tty: opts.tty === true,
    AttachStdin: opts.interactive === true && !detach,
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: opts.detachKeys ?? '',
    Env: env.length ? env : null,
    WorkingDir: opts.workdir ?? '',
    Cmd: command,
  };
}

/**
 * `exec [-i] [-t] [-d] [-e] [-w] [-u] [--privileged] NAME CMD...`: creates the
 * exec, starts it on a hijacked connection (or detached), relays stdio, then
 * exits with the process's exit code read from GET /exec/{id}/json.
 */
export async function exec(ctx: Context, args: string[], raw: Record<string, unknown>): Promise<number> {
  const opts = raw as ExecOptions;
  const [ref = '', ...command] = args;
  if (command.length === 0)
    throw new InvalidError('exec needs a command: drover exec [OPTIONS] CONTAINER COMMAND [ARG...]');
  const info = await ctx.client.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(ref)}/json`);
  if (info.State.Paused) throw new ConflictError(`container ${ref} is paused, unpause it first`);
  const body = execBody(command, opts);
  const { Id } = await ctx.client.json<{ Id: string }>(
    'POST',
    `/containers/${encodeURIComponent(ref)}/exec`,
    { json: body },
  );
  if (opts.detach) {
    await ctx.client.call('POST', `/exec/${Id}/start`, { json: { Detach: true, Tty: body.Tty } });
    return 0;
  }
  const session = await ctx.client.hijack(`/exec/${Id}/start`, { json: { Detach: false, Tty: body.Tty } });
  const stopResize = body.Tty ? followResize(ctx, ctx.client, `/exec/${Id}/resize`) : () => {};
  const detachKeys = parseDetachKeys(opts.detachKeys ?? defaultDetachKeys);
  try {
    const how = await withRawTerminal(ctx, body.Tty && body.AttachStdin, () =>
      relaySession(session, { tty: body.Tty, stdin: body.AttachStdin, ctx, detachKeys }),
    );
    if (how === 'detached') return 0;
  } finally {
    stopResize();
  }
  const result = await ctx.client.json<ExecInspect>('GET', `/exec/${Id}/json`);
  return result.ExitCode ?? 0;
}
