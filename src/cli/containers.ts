import { NotFoundError } from '../lib/errors.ts';
import { type Query, readBody } from './docker/client.ts';
import type { Context } from './docker/invoke.ts';

/**
 * Lifecycle verbs that act on each named container in turn: like docker, they
 * print each name on success, report each failure as "Error response from
 * daemon: ...", and exit 1 if any failed.
 */
async function eachContainer(
  ctx: Context,
  refs: string[],
  act: (ref: string) => Promise<string | undefined>,
  opts: { ignoreNotFound?: boolean } = {},
): Promise<number> {
  let failed = false;
  for (const ref of refs) {
    try {
      const out = await act(ref);
      if (out !== undefined) ctx.stdout.write(`${out}\n`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.stderr.write(`Error response from daemon: ${message}\n`);
      if (!(opts.ignoreNotFound && err instanceof NotFoundError)) failed = true;
    }
  }
  return failed ? 1 : 0;
}

const path = (ref: string, action = ''): string =>
  `/containers/${encodeURIComponent(ref)}${action ? `/${action}` : ''}`;

function post(ctx: Context, action: string, query: Query = {}) {
  return async (ref: string): Promise<string> => {
    await ctx.client.call('POST', path(ref, action), { query });
    return ref;
  };
}

export async function stop(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const query = { t: opts.time as string | undefined, signal: opts.signal as string | undefined };
  return eachContainer(ctx, args, post(ctx, 'stop', query));
}

export async function restart(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const query = { t: opts.time as string | undefined, signal: opts.signal as string | undefined };
  return eachContainer(ctx, args, post(ctx, 'restart', query));
}

export async function kill(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  return eachContainer(ctx, args, post(ctx, 'kill', { signal: opts.signal as string | undefined }));
}

export async function pause(ctx: Context, args: string[]): Promise<number> {
  return eachContainer(ctx, args, post(ctx, 'pause'));
}

export async function unpause(ctx: Context, args: string[]): Promise<number> {
  return eachContainer(ctx, args, post(ctx, 'unpause'));
}

/** rm -f tolerates missing containers (prints the error, exits 0), as docker does. */
export async function rm(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const query = { force: opts.force ? true : undefined, v: opts.volumes ? true : undefined };
  return eachContainer(
    ctx,
    args,
    async (ref) => {
      await ctx.client.call('DELETE', path(ref), { query });
      return ref;
    },
    { ignoreNotFound: opts.force === true },
  );
}

export async function rename(ctx: Context, args: string[]): Promise<number> {
  const [from = '', to = ''] = args;
  await ctx.client.call('POST', path(from, 'rename'), { query: { name: to } });
  return 0;
}

/** `wait NAME...`: prints each exit code once the container stops. */
export async function wait(ctx: Context, args: string[]): Promise<number> {
  return eachContainer(ctx, args, async (ref) => {
    const res = await ctx.client.request('POST', path(ref, 'wait'));
    const body = JSON.parse((await readBody(res)).toString('utf8') || '{}') as {
      StatusCode?: number;
      Error?: { Message?: string } | null;
    };
    if (body.Error?.Message) throw new Error(body.Error.Message);
    return String(body.StatusCode ?? -1);
  });
}

/** `prune [-f]` for containers: POST /containers/prune. */
export async function prune(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const { confirm } = await import('./confirm.ts');
  if (!opts.force && !(await confirm(ctx, 'This will remove all stopped containers.'))) return 0;
  const { formatPruneReport } = await import('./system.ts');
  const res = await ctx.client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>(
    'POST',
    '/containers/prune',
    {
      query: {
        filters: opts.filter
          ? (await import('./filters.ts')).encodeFilters(opts.filter as string[])
          : undefined,
      },
    },
  );
  ctx.stdout.write(formatPruneReport('Deleted Containers', res.ContainersDeleted, res.SpaceReclaimed));
  return 0;
}
