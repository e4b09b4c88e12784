import type { ContainerInspect } from '../engine/types.ts';
import type { Context } from './docker/invoke.ts';
import { copyOutput } from './docker/stdcopy.ts';
import { parseTimestamp } from './units.ts';

/**
 * `logs [-f] [--tail N] [--since T] [--until T] [-t] NAME`: inspects the
 * container first (its Config.Tty decides whether the stream is multiplexed),
 * then copies stdout and stderr to ours, kept apart.
 */
export async function logs(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const ref = args[0] ?? '';
  const info = await ctx.client.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(ref)}/json`);
  const res = await ctx.client.request('GET', `/containers/${info.Id}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      follow: opts.follow ? true : undefined,
      tail: opts.tail as string | undefined,
      timestamps: opts.timestamps ? true : undefined,
      details: opts.details ? true : undefined,
      since: opts.since ? parseTimestamp(opts.since as string, '--since') : undefined,
      until: opts.until ? parseTimestamp(opts.until as string, '--until') : undefined,
    },
  });
  const stop = () => res.destroy();
  process.once('SIGINT', stop);
  try {
    await copyOutput(res, info.Config.Tty === true, { stdout: ctx.stdout, stderr: ctx.stderr });
  } catch (err) {
    if (!res.destroyed) throw err;
  } finally {
    process.off('SIGINT', stop);
  }
  return 0;
}
