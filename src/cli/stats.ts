import type { ContainerSummary, StatsSample } from '../engine/types.ts';
import { jsonLines } from './docker/client.ts';
import type { Context } from './docker/invoke.ts';
import { formatRows, shortId, type TableSpec } from './formatting.ts';
import { bytesSize, humanSize } from './units.ts';

export const statsTable: TableSpec = {
  defaultFormat:
    'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
  headers: {
    ID: 'CONTAINER ID',
    CPUPerc: 'CPU %',
    MemUsage: 'MEM USAGE / LIMIT',
    MemPerc: 'MEM %',
    NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O',
    PIDs: 'PIDS',
    Container: 'CONTAINER',
  },
};

/** The display row docker computes from one sample (CPU from the delta to precpu_stats). */
export function statsRow(container: string, s: StatsSample): Record<string, string> {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpu = cpuDelta > 0 && sysDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const mem = s.memory_stats ?? {};
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
  const usage = Math.max((mem.usage ?? 0) - (inactive < (mem.usage ?? 0) ? inactive : 0), 0);
  const limit = mem.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let write = 0;
  const io =
    (s.blkio_stats as { io_service_bytes_recursive?: { op: string; value: number }[] | null })
      .io_service_bytes_recursive ?? [];
  for (const e of io) {
    if (e.op.toLowerCase() === 'read') read += e.value;
    else if (e.op.toLowerCase() === 'write') write += e.value;
  }
  return {
    Container: container,
    ID: shortId(s.id ?? ''),
    Name: (s.name ?? '').replace(/^\//, ''),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(usage)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (usage / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(read)} / ${humanSize(write)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

/** `stats [--no-stream] [-a] [--format] [NAME...]`: one table (--no-stream) or a table redrawn each second. */
export async function stats(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  let names = args;
  if (names.length === 0) {
    const list = await ctx.client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: opts.all ? true : undefined },
    });
    names = list.map((c) => c.Id);
  }
  const format = opts.format as string | undefined;
  if (opts.stream === false) {
    const samples = await Promise.all(
      names.map((n) =>
        ctx.client.json<StatsSample>('GET', `/containers/${encodeURIComponent(n)}/stats`, {
          query: { stream: false },
        }),
      ),
    );
    ctx.stdout.write(
      formatRows(
        samples.map((s, i) => statsRow(names[i] ?? '', s)),
        format,
        statsTable,
      ),
    );
    return 0;
  }
  const latest = new Map<string, Record<string, string>>();
  const responses = await Promise.all(
    names.map((n) =>
      ctx.client.request('GET', `/containers/${encodeURIComponent(n)}/stats`, { query: { stream: true } }),
    ),
  );
  const tty = (ctx.stdout as NodeJS.WriteStream).isTTY === true;
  const draw = () => {
    const table = formatRows([...latest.values()], format, statsTable);
    ctx.stdout.write(tty ? `\x1b[2J\x1b[H${table}` : table);
  };
  const timer = setInterval(draw, 1000);
  const stop = () => {
    for (const r of responses) r.destroy();
  };
  process.once('SIGINT', stop);
  try {
    await Promise.all(
      responses.map(async (res, i) => {
        try {
          for await (const s of jsonLines<StatsSample>(res))
            latest.set(names[i] ?? '', statsRow(names[i] ?? '', s));
        } catch (err) {
          if (!res.destroyed) throw err;
        }
      }),
    );
  } finally {
    clearInterval(timer);
    process.off('SIGINT', stop);
  }
  return 0;
}
