import fs from 'node:fs';
import type { ContainerInspect } from '../engine/types.ts';
import { ConflictError, InvalidError, NotFoundError } from '../lib/errors.ts';
import { readBody } from './docker/client.ts';
import { defaultDetachKeys, parseDetachKeys } from './docker/detach-keys.ts';
import type { Http1Response } from './docker/http1.ts';
import type { Context } from './docker/invoke.ts';
import { followResize, proxySignals, relaySession, terminalSize, withRawTerminal } from './docker/session.ts';
import { exitCodes } from './exit-codes.ts';
import { pullImage } from './images.ts';
import { buildCreateBody, type RunOptions } from './run-flags.ts';

interface WaitBody {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** Reads the (late) body of a wait response; -1 and the message when the daemon reports an error. */
async function waitResult(ctx: Context, res: Promise<Http1Response>): Promise<number> {
  const body = await readBody(await res);
  const parsed = JSON.parse(body.toString('utf8') || '{}') as WaitBody;
  if (parsed.Error?.Message) {
    ctx.stderr.write(`drover: Error waiting for the container: ${parsed.Error.Message}\n`);
    return exitCodes.daemon;
  }
  return parsed.StatusCode;
}

/** docker's rule: a start error's text says whether the command was missing (127) or not executable (126). */
export function startErrorExitCode(message: string): number {
  if (/executable file not found|no such file or directory|not found/i.test(message))
    return exitCodes.notFound;
  if (/permission denied/i.test(message)) return exitCodes.cannotInvoke;
  return exitCodes.daemon;
}

/** POST /containers/create; on "no such image" pulls it once and retries, like docker run. */
async function createContainer(ctx: Context, image: string, body: object, name?: string): Promise<string> {
  const create = () =>
    ctx.client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name },
      json: body,
    });
  let created: { Id: string; Warnings?: string[] | null };
  try {
    created = await create();
  } catch (err) {
    if (!(err instanceof NotFoundError) || !/no such image/i.test(err.message)) throw err;
    const ref = image.includes(':') || image.includes('@') ? image : `${image}:latest`;
    ctx.stderr.write(`Unable to find image '${ref}' locally\n`);
    await pullImage(ctx, image, { quiet: false, out: ctx.stderr });
    created = await create();
  }
  for (const w of created.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
  return created.Id;
}

function bodyFor(verb: 'run' | 'create', ctx: Context, args: string[], opts: RunOptions) {
  const [image, ...command] = args;
  if (!image)
    throw new InvalidError('no image given: usage is drover run [OPTIONS] IMAGE [COMMAND] [ARG...]');
  const body = buildCreateBody(verb, image, command, opts, {
    env: ctx.env,
    readFile: (f) => fs.readFileSync(f, 'utf8'),
    consoleSize: opts.tty ? terminalSize(ctx) : undefined,
  });
  return { image, body };
}

export async function create(ctx: Context, args: string[], raw: Record<string, unknown>): Promise<number> {
  const opts = raw as RunOptions;
  const { image, body } = bodyFor('create', ctx, args, opts);
  ctx.stdout.write(`${await createContainer(ctx, image, body, opts.name)}\n`);
  return exitCodes.ok;
}

/** Starts a container, mapping a refusal to docker's 126/127/125 exit codes. */
async function startOrExit(ctx: Context, id: string, verb: string): Promise<number | undefined> {
  try {
    await ctx.client.call('POST', `/containers/${id}/start`);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.stderr.write(
      `drover: Error response from daemon: ${message}\n\nRun 'drover ${verb} --help' for more information\n`,
    );
    return startErrorExitCode(message);
  }
}

interface AttachPlan {
  id: string;
  /** For the help hint of a start failure. */
  verb: 'run' | 'start';
  tty: boolean;
  stdin: boolean;
  condition?: 'next-exit' | 'removed';
  detachKeys?: Buffer;
  /** false: SIGINT/SIGTERM stop the CLI instead of being sent to the container (--sig-proxy=false). */
  sigProxy?: boolean;
}

/** Attach → wait → start → relay: the order docker uses so no output is lost. */
async function attachStartAndWait(ctx: Context, plan: AttachPlan, start: boolean): Promise<number> {
  const { client } = ctx;
  const query = { stream: true, stdin: plan.stdin || undefined, stdout: true, stderr: true };
  const session = await client.hijack(`/containers/${plan.id}/attach`, { query });
  const wait = client.request('POST', `/containers/${plan.id}/wait`, {
    query: { condition: plan.condition },
  });
  await wait;
  if (start) {
    const failed = await startOrExit(ctx, plan.id, plan.verb);
    if (failed !== undefined) {
      session.socket.destroy();
      (await wait).destroy();
      return failed;
    }
  }
  const stopResize = plan.tty ? followResize(ctx, client, `/containers/${plan.id}/resize`) : () => {};
  const stopSignals = plan.tty || plan.sigProxy === false ? () => {} : proxySignals(client, plan.id);
  try {
    const how = await withRawTerminal(ctx, plan.tty && plan.stdin, () =>
      relaySession(session, { tty: plan.tty, stdin: plan.stdin, ctx, detachKeys: plan.detachKeys }),
    );
    if (how === 'detached') {
      (await wait).destroy();
      return exitCodes.ok;
    }
    return await waitResult(ctx, wait);
  } finally {
    stopResize();
    stopSignals();
  }
}

export async function run(ctx: Context, args: string[], raw: Record<string, unknown>): Promise<number> {
  const opts = raw as RunOptions;
  const { image, body } = bodyFor('run', ctx, args, opts);
  const detachKeys = parseDetachKeys(opts.detachKeys ?? defaultDetachKeys);
  const id = await createContainer(ctx, image, body, opts.name);
  if (opts.detach) {
    const failed = await startOrExit(ctx, id, 'run');
    if (failed !== undefined) return failed;
    ctx.stdout.write(`${id}\n`);
    return exitCodes.ok;
  }
  return attachStartAndWait(
    ctx,
    {
      id,
      verb: 'run',
      tty: opts.tty === true,
      stdin: opts.interactive === true,
      condition: opts.rm ? 'removed' : 'next-exit',
      detachKeys,
      sigProxy: opts.sigProxy,
    },
    true,
  );
}

export async function inspectContainer(ctx: Context, ref: string): Promise<ContainerInspect> {
  return ctx.client.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(ref)}/json`);
}

/** `start [-a] [-i] NAME...`: without -a prints each name; with -a attaches to the (single) container. */
export async function start(ctx: Context, args: string[], raw: Record<string, unknown>): Promise<number> {
  const opts = raw as { attach?: boolean; interactive?: boolean; detachKeys?: string };
  if (opts.attach || opts.interactive) {
    const [ref] = args;
    if (args.length !== 1 || !ref)
      throw new InvalidError('you cannot start and attach multiple containers at once');
    const info = await inspectContainer(ctx, ref);
    const stdin = opts.interactive === true && info.Config.OpenStdin === true;
    return attachStartAndWait(
      ctx,
      {
        id: info.Id,
        verb: 'start',
        tty: info.Config.Tty === true,
        stdin,
        condition: 'next-exit',
        detachKeys: parseDetachKeys(opts.detachKeys ?? defaultDetachKeys),
      },
      true,
    );
  }
  const failed: string[] = [];
  for (const ref of args) {
    try {
      await ctx.client.call('POST', `/containers/${encodeURIComponent(ref)}/start`);
      ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      ctx.stderr.write(`Error response from daemon: ${err instanceof Error ? err.message : String(err)}\n`);
      failed.push(ref);
    }
  }
  if (failed.length === 0) return exitCodes.ok;
  ctx.stderr.write(`Error: failed to start containers: ${failed.join(', ')}\n`);
  return 1;
}

/** `attach [--no-stdin] NAME`: relays a running container's stdio; exits with its exit code. */
export async function attach(ctx: Context, args: string[], raw: Record<string, unknown>): Promise<number> {
  const opts = raw as { stdin?: boolean; detachKeys?: string };
  const ref = args[0] ?? '';
  const info = await inspectContainer(ctx, ref);
  if (!info.State.Running)
    throw new ConflictError('You cannot attach to a stopped container, start it first');
  if (info.State.Paused) throw new ConflictError('You cannot attach to a paused container, unpause it first');
  const stdin = opts.stdin !== false && info.Config.OpenStdin === true;
  const detachKeys = parseDetachKeys(opts.detachKeys ?? defaultDetachKeys);
  return attachStartAndWait(
    ctx,
    { id: info.Id, verb: 'start', tty: info.Config.Tty === true, stdin, detachKeys },
    false,
  );
}
