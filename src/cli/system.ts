import type { ContainerSummary, EngineEvent, ImageSummary, VolumeInspect } from '../engine/types.ts';
import { textLines } from './docker/client.ts';
import type { Context } from './docker/invoke.ts';
import { encodeFilters } from './filters.ts';
import { alignColumns, formatRows, formatValue } from './formatting.ts';
import { humanSize, parseTimestamp } from './units.ts';

const clientVersion = '0.1.0';

export function formatPruneReport(
  title: string,
  deleted: string[] | null | undefined,
  reclaimed: number | undefined,
): string {
  const list = deleted ?? [];
  return `${list.length ? `${title}:\n${list.join('\n')}\n\n` : ''}Total reclaimed space: ${humanSize(reclaimed ?? 0)}\n`;
}

export async function version(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const client = {
    Version: clientVersion,
    ApiVersion: '1.41',
    Os: process.platform,
    Arch: process.arch,
    NodeVersion: process.version,
  };
  let server: Record<string, unknown> | undefined;
  let failure: unknown;
  try {
    server = await ctx.client.json<Record<string, unknown>>('GET', '/version');
  } catch (err) {
    failure = err;
  }
  if (opts.format) {
    ctx.stdout.write(formatValue({ Client: client, Server: server ?? null }, opts.format as string));
  } else {
    const lines = [
      'Client:',
      ` Version:\t${client.Version}`,
      ` API version:\t${client.ApiVersion}`,
      ` Node.js version:\t${client.NodeVersion}`,
      ` OS/Arch:\t${client.Os}/${client.Arch}`,
    ];
    if (server) {
      lines.push(
        '',
        'Server:',
        ' Engine:',
        `  Version:\t${String(server.Version ?? '')}`,
        `  API version:\t${String(server.ApiVersion ?? '')} (minimum version ${String(server.MinAPIVersion ?? '')})`,
        `  OS/Arch:\t${String(server.Os ?? '')}/${String(server.Arch ?? '')}`,
        `  Kernel version:\t${String(server.KernelVersion ?? '')}`,
      );
    }
    ctx.stdout.write(
      alignColumns(lines, 0, 1)
        .map((l) => `${l}\n`)
        .join(''),
    );
  }
  if (failure) throw failure;
  return 0;
}

export async function info(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const i = await ctx.client.json<Record<string, unknown>>('GET', '/info');
  if (opts.format) {
    ctx.stdout.write(formatValue(i, opts.format as string));
    return 0;
  }
  const v = (k: string) => String(i[k] ?? '');
  const lines = [
    'Server:',
    ` Containers: ${v('Containers')}`,
    `  Running: ${v('ContainersRunning')}`,
    `  Paused: ${v('ContainersPaused')}`,
    `  Stopped: ${v('ContainersStopped')}`,
    ` Images: ${v('Images')}`,
    ` Server Version: ${v('ServerVersion')}`,
    ` Storage Driver: ${v('Driver')}`,
    ` Logging Driver: ${v('LoggingDriver')}`,
    ` Cgroup Driver: ${v('CgroupDriver')}`,
    ` Cgroup Version: ${v('CgroupVersion')}`,
    ` Default Runtime: ${v('DefaultRuntime')}`,
    ` Kernel Version: ${v('KernelVersion')}`,
    ` Operating System: ${v('OperatingSystem')}`,
    ` OSType: ${v('OSType')}`,
    ` Architecture: ${v('Architecture')}`,
    ` CPUs: ${v('NCPU')}`,
    ` Total Memory: ${humanSize(Number(i.MemTotal ?? 0))}`,
    ` Name: ${v('Name')}`,
    ` ID: ${v('ID')}`,
    ` Docker Root Dir: ${v('DockerRootDir')}`,
  ];
  ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
  for (const w of (i.Warnings as string[] | null | undefined) ?? []) ctx.stderr.write(`${w}\n`);
  return 0;
}

interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeInspect[] | null;
}

function reclaimable(size: number, total: number): string {
  return total > 0 ? `${humanSize(size)} (${Math.trunc((size * 100) / total)}%)` : humanSize(size);
}

export async function df(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const d = await ctx.client.json<DiskUsage>('GET', '/system/df');
  const images = d.Images ?? [];
  const containers = d.Containers ?? [];
  const volumes = d.Volumes ?? [];
  const imagesSize = d.LayersSize ?? images.reduce((s, i) => s + i.Size, 0);
  const unusedImages = images
    .filter((i) => i.Containers <= 0)
    .reduce((s, i) => s + i.Size - Math.max(i.SharedSize, 0), 0);
  const ctrSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const ctrIdle = containers.filter((c) => c.State !== 'running').reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const volSize = volumes.reduce((s, v) => s + Math.max(v.UsageData?.Size ?? 0, 0), 0);
  const volIdle = volumes
    .filter((v) => (v.UsageData?.RefCount ?? 0) === 0)
    .reduce((s, v) => s + Math.max(v.UsageData?.Size ?? 0, 0), 0);
  const rows = [
    {
      Type: 'Images',
      TotalCount: String(images.length),
      Active: String(images.filter((i) => i.Containers > 0).length),
      Size: humanSize(imagesSize),
      Reclaimable: reclaimable(unusedImages, imagesSize),
    },
    {
      Type: 'Containers',
      TotalCount: String(containers.length),
      Active: String(containers.filter((c) => c.State === 'running').length),
      Size: humanSize(ctrSize),
      Reclaimable: reclaimable(ctrIdle, ctrSize),
    },
    {
      Type: 'Local Volumes',
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: humanSize(volSize),
      Reclaimable: reclaimable(volIdle, volSize),
    },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
  const spec = {
    defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
    headers: { TotalCount: 'TOTAL' },
  };
  ctx.stdout.write(formatRows(rows, opts.format as string | undefined, spec));
  return 0;
}

/** `system prune [-a] [-f] [--volumes]`: containers, networks, (volumes), images, in docker's order. */
export async function prune(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const { confirm } = await import('./confirm.ts');
  const what = [
    'This will remove:',
    '  - all stopped containers',
    '  - all networks not used by at least one container',
    ...(opts.volumes ? ['  - all volumes not used by at least one container'] : []),
    opts.all ? '  - all images without at least one container associated to them' : '  - all dangling images',
  ].join('\n');
  if (!opts.force && !(await confirm(ctx, what))) return 0;
  let total = 0;
  const c = await ctx.client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>(
    'POST',
    '/containers/prune',
  );
  if (c.ContainersDeleted?.length)
    ctx.stdout.write(`Deleted Containers:\n${c.ContainersDeleted.join('\n')}\n\n`);
  total += c.SpaceReclaimed ?? 0;
  const n = await ctx.client.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune');
  if (n.NetworksDeleted?.length) ctx.stdout.write(`Deleted Networks:\n${n.NetworksDeleted.join('\n')}\n\n`);
  if (opts.volumes) {
    const v = await ctx.client.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>(
      'POST',
      '/volumes/prune',
    );
    if (v.VolumesDeleted?.length) ctx.stdout.write(`Deleted Volumes:\n${v.VolumesDeleted.join('\n')}\n\n`);
    total += v.SpaceReclaimed ?? 0;
  }
  const i = await ctx.client.json<{
    ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
    SpaceReclaimed?: number;
  }>('POST', '/images/prune', {
    query: { filters: encodeFilters([`dangling=${opts.all ? 'false' : 'true'}`]) },
  });
  const deleted = (i.ImagesDeleted ?? []).map((x) =>
    x.Untagged ? `untagged: ${x.Untagged}` : `deleted: ${x.Deleted ?? ''}`,
  );
  if (deleted.length) ctx.stdout.write(`Deleted Images:\n${deleted.join('\n')}\n\n`);
  total += i.SpaceReclaimed ?? 0;
  ctx.stdout.write(`Total reclaimed space: ${humanSize(total)}\n`);
  return 0;
}

/**
 * "2026-11-23T11:15:44.836935529Z container start <id> (image=busybox, name=evt)".
 * `timeNano` is past 2^53, so its digits are taken from the raw JSON (`rawTimeNano`).
 */
export function formatEvent(e: EngineEvent, rawTimeNano?: string): string {
  const nanos = rawTimeNano ? rawTimeNano.slice(-9).padStart(9, '0') : '000000000';
  const stamp = `${new Date(e.time * 1000).toISOString().replace(/\.\d+Z$/, '')}.${nanos}Z`;
  const attrs = Object.entries(e.Actor?.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${stamp} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${attrs ? ` (${attrs})` : ''}\n`;
}

export async function events(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const res = await ctx.client.request('GET', '/events', {
    query: {
      since: opts.since ? parseTimestamp(opts.since as string, '--since') : undefined,
      until: opts.until ? parseTimestamp(opts.until as string, '--until') : undefined,
      filters: encodeFilters(opts.filter as string[] | undefined),
    },
  });
  const format = opts.format as string | undefined;
  const stop = () => res.destroy();
  process.once('SIGINT', stop);
  try {
    for await (const line of textLines(res)) {
      const e = JSON.parse(line) as EngineEvent;
      if (format === 'json' || format === '{{json .}}') ctx.stdout.write(`${line}\n`);
      else if (format) ctx.stdout.write(formatRows([e], format, { defaultFormat: '', headers: {} }));
      else ctx.stdout.write(formatEvent(e, /"timeNano":(\d+)/.exec(line)?.[1]));
    }
  } catch (err) {
    if (!res.destroyed) throw err;
  } finally {
    process.off('SIGINT', stop);
  }
  return 0;
}
