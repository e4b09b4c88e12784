import type { VolumeInspect } from '../engine/types.ts';
import type { Context } from './docker/invoke.ts';
import { encodeFilters } from './filters.ts';
import { formatRows, type TableSpec } from './formatting.ts';
import { humanSize } from './units.ts';

function keyValues(entries: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (entries ?? []).map((e) => {
      const eq = e.indexOf('=');
      return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
    }),
  );
}

/** `volume create [-d DRIVER] [--label k=v] [-o k=v] [NAME]`: prints the name. */
export async function create(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const body: Record<string, unknown> = {
    Driver: (opts.driver as string | undefined) ?? 'local',
    Name: args[0] ?? (opts.name as string | undefined) ?? '',
  };
  const driverOpts = keyValues(opts.opt as string[] | undefined);
  const labels = keyValues(opts.label as string[] | undefined);
  if (Object.keys(driverOpts).length) body.DriverOpts = driverOpts;
  if (Object.keys(labels).length) body.Labels = labels;
  const v = await ctx.client.json<VolumeInspect>('POST', '/volumes/create', { json: body });
  ctx.stdout.write(`${v.Name}\n`);
  return 0;
}

export const volumesTable: TableSpec = {
  defaultFormat: 'table {{.Driver}}\t{{.Name}}',
  headers: { Name: 'VOLUME NAME' },
};

export async function ls(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const res = await ctx.client.json<{ Volumes: VolumeInspect[] | null }>('GET', '/volumes', {
    query: { filters: encodeFilters(opts.filter as string[] | undefined) },
  });
  const list = res.Volumes ?? [];
  if (opts.quiet) {
    ctx.stdout.write(list.map((v) => `${v.Name}\n`).join(''));
    return 0;
  }
  const rows = list.map((v) => ({
    Driver: v.Driver,
    Name: v.Name,
    Mountpoint: v.Mountpoint,
    Scope: v.Scope,
    Labels: Object.entries(v.Labels ?? {})
      .map(([k, x]) => `${k}=${x}`)
      .join(','),
    Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A',
  }));
  ctx.stdout.write(formatRows(rows, opts.format as string | undefined, volumesTable));
  return 0;
}

export async function rm(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  let failed = false;
  for (const name of args) {
    try {
      await ctx.client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, {
        query: { force: opts.force ? true : undefined },
      });
      ctx.stdout.write(`${name}\n`);
    } catch (err) {
      ctx.stderr.write(`Error response from daemon: ${err instanceof Error ? err.message : String(err)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function inspect(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const { inspect: generic } = await import('./containers-info.ts');
  return generic(ctx, args, { ...opts, type: 'volume' });
}

export async function prune(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const { confirm } = await import('./confirm.ts');
  if (
    !opts.force &&
    !(await confirm(ctx, 'This will remove all local volumes not used by at least one container.'))
  )
    return 0;
  const res = await ctx.client.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>(
    'POST',
    '/volumes/prune',
    {
      query: { filters: encodeFilters(opts.filter as string[] | undefined) },
    },
  );
  const names = res.VolumesDeleted ?? [];
  if (names.length) ctx.stdout.write(`Deleted Volumes:\n${names.join('\n')}\n\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(res.SpaceReclaimed ?? 0)}\n`);
  return 0;
}
