import type { ContainerSummary, PortSummary } from '../engine/types.ts';
import type { Context } from './docker/invoke.ts';
import { encodeFilters } from './filters.ts';
import { ellipsis, formatRows, goTime, shortId, type TableSpec } from './formatting.ts';
import { humanDuration, humanSize } from './units.ts';

/** "127.0.0.1:18080->80/tcp, [::]:18081->81/tcp, 80/tcp" */
export function formatPorts(ports: PortSummary[] | undefined): string {
  return (ports ?? [])
    .map((p) => {
      if (p.PublicPort === undefined || p.PublicPort === 0) return `${p.PrivatePort}/${p.Type}`;
      const ip = p.IP?.includes(':') ? `[${p.IP}]` : (p.IP ?? '0.0.0.0');
      return `${ip}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
    })
    .join(', ');
}

export interface PsOptions {
  all?: boolean;
  quiet?: boolean;
  filter?: string[];
  format?: string;
  /** false with --no-trunc (commander's negatable option). */
  trunc?: boolean;
  size?: boolean;
  last?: string;
  latest?: boolean;
}

/** The display fields docker's ps formatter offers to templates. */
export function psRow(
  c: ContainerSummary,
  opts: { noTrunc?: boolean; now?: number },
): Record<string, string | null> {
  const now = opts.now ?? Date.now();
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, '')).filter((n) => !n.includes('/'));
  const command = opts.noTrunc ? c.Command : ellipsis(c.Command ?? '', 20);
  const size =
    c.SizeRw === undefined ? '0B' : `${humanSize(c.SizeRw)} (virtual ${humanSize(c.SizeRootFs ?? 0)})`;
  const labels = Object.entries(c.Labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const mounts = (c.Mounts ?? []).map((m) => ellipsis(m.Name ?? m.Source, 15)).join(',');
  return {
    Command: `"${command}"`,
    CreatedAt: goTime(c.Created),
    ID: opts.noTrunc ? c.Id : shortId(c.Id),
    Image: c.Image,
    Labels: labels,
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
    Mounts: mounts,
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(','),
    // docker's formatter has it (always null against a 1.41 daemon); kept so --format json matches.
    Platform: null,
    Ports: formatPorts(c.Ports),
    RunningFor: `${humanDuration(now - c.Created * 1000)} ago`,
    Size: size,
    State: c.State,
    Status: c.Status,
  };
}

export const psTable: TableSpec = {
  defaultFormat:
    'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  headers: {
    ID: 'CONTAINER ID',
    RunningFor: 'CREATED',
    CreatedAt: 'CREATED AT',
    LocalVolumes: 'LOCAL VOLUMES',
  },
};

export async function ps(ctx: Context, _args: string[], raw: Record<string, unknown>): Promise<number> {
  const opts = raw as PsOptions;
  const noTrunc = opts.trunc === false;
  const limit = opts.latest ? 1 : opts.last !== undefined ? Number(opts.last) : undefined;
  const wantsSize = opts.size === true || (opts.format?.includes('.Size') ?? false);
  const list = await ctx.client.json<ContainerSummary[]>('GET', '/containers/json', {
    query: {
      all: opts.all || undefined,
      limit: limit !== undefined && limit > 0 ? limit : undefined,
      size: wantsSize || undefined,
      filters: encodeFilters(opts.filter),
    },
  });
  if (opts.quiet) {
    ctx.stdout.write(list.map((c) => `${noTrunc ? c.Id : shortId(c.Id)}\n`).join(''));
    return 0;
  }
  let format = opts.format;
  if (!format && opts.size) format = `${psTable.defaultFormat}\t{{.Size}}`;
  ctx.stdout.write(
    formatRows(
      list.map((c) => psRow(c, { noTrunc })),
      format,
      psTable,
    ),
  );
  return 0;
}
