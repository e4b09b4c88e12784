import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { type CgroupLayout, containerCgroupsPath, controllerDir } from '../oci/cgroups.ts';
import type { CpuStats, NetworkStats, StatsSample } from '../types.ts';
import type { ContainerRecord } from './record.ts';

const clockTicks = 100; // USER_HZ on Linux
// cgroup v1 reports "no limit" as a page-rounded 2^63; anything this large is unlimited.
const unlimitedV1 = 2 ** 62;

/**
 * `docker stats`: one sample per second (or one with stream=false), in
 * Docker's JSON with cgroup v1 names whatever the host runs, so the CLI
 * computes CPU% from cpu_stats - precpu_stats over system_cpu_usage.
 */
export async function* containerStats(
  rec: ContainerRecord,
  opts: { stream: boolean; signal?: AbortSignal; cgroups: CgroupLayout },
): AsyncGenerator<StatsSample> {
  let previous: { cpu: CpuStats; read: string } | undefined;
  if (!opts.stream) {
    // A one-shot sample still needs a previous reading for CPU%: take two, 100 ms apart.
    previous = { cpu: await readCpu(opts.cgroups, rec.id), read: new Date().toISOString() };
    await delay(100, opts.signal);
  }
  while (!opts.signal?.aborted) {
    const running = rec.state.status === 'running' || rec.state.status === 'paused';
    const sample = running ? await readSample(rec, opts.cgroups, previous) : emptySample(rec, previous);
    yield sample;
    if (!opts.stream || !running) return;
    previous = { cpu: sample.cpu_stats, read: sample.read };
    await delay(1000, opts.signal);
  }
}

async function readSample(
  rec: ContainerRecord,
  layout: CgroupLayout,
  previous: { cpu: CpuStats; read: string } | undefined,
): Promise<StatsSample> {
  const [cpu, memory, pids, networks] = await Promise.all([
    readCpu(layout, rec.id),
    readMemory(layout, rec.id),
    readPids(layout, rec.id),
    readNetworks(rec.state.pid),
  ]);
  return {
    read: new Date().toISOString(),
    preread: previous?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: pids,
    blkio_stats: emptyBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: previous?.cpu ?? zeroCpu(),
    memory_stats: memory,
    networks,
    name: `/${rec.name}`,
    id: rec.id,
  };
}

function emptySample(
  rec: ContainerRecord,
  previous: { cpu: CpuStats; read: string } | undefined,
): StatsSample {
  return {
    read: '0001-01-01T00:00:00Z',
    preread: previous?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: {},
    blkio_stats: emptyBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu(),
    precpu_stats: zeroCpu(),
    memory_stats: {},
    name: `/${rec.name}`,
    id: rec.id,
  };
}

async function readCpu(layout: CgroupLayout, id: string): Promise<CpuStats> {
  const path = containerCgroupsPath(id);
  const system = await systemCpuUsage();
  const online = os.availableParallelism();
  if (layout.mode === 'v2') {
    const dir = join(layout.root, path);
    const stat = parseKeyValues(await read(join(dir, 'cpu.stat')));
    return {
      cpu_usage: {
        total_usage: (stat.usage_usec ?? 0) * 1000,
        usage_in_kernelmode: (stat.system_usec ?? 0) * 1000,
        usage_in_usermode: (stat.user_usec ?? 0) * 1000,
      },
      system_cpu_usage: system,
      online_cpus: online,
      throttling_data: {
        periods: stat.nr_periods ?? 0,
        throttled_periods: stat.nr_throttled ?? 0,
        throttled_time: (stat.throttled_usec ?? 0) * 1000,
      },
    };
  }
  const acct = controllerDir(layout, 'cpuacct', path) ?? '';
  const cpuDir = controllerDir(layout, 'cpu', path) ?? '';
  const [usage, percpu, acctStat, cpuStat] = await Promise.all([
    read(join(acct, 'cpuacct.usage')),
    read(join(acct, 'cpuacct.usage_percpu')),
    read(join(acct, 'cpuacct.stat')),
    read(join(cpuDir, 'cpu.stat')),
  ]);
  const ticks = parseKeyValues(acctStat);
  const throttle = parseKeyValues(cpuStat);
  return {
    cpu_usage: {
      total_usage: Number(usage.trim()) || 0,
      percpu_usage: percpu.trim() ? percpu.trim().split(/\s+/).map(Number) : undefined,
      usage_in_kernelmode: ((ticks.system ?? 0) * 1e9) / clockTicks,
      usage_in_usermode: ((ticks.user ?? 0) * 1e9) / clockTicks,
    },
    system_cpu_usage: system,
    online_cpus: online,
    throttling_data: {
      periods: throttle.nr_periods ?? 0,
      throttled_periods: throttle.nr_throttled ?? 0,
      throttled_time: throttle.throttled_time ?? 0,
    },
  };
}

async function readMemory(layout: CgroupLayout, id: string): Promise<StatsSample['memory_stats']> {
  const path = containerCgroupsPath(id);
  if (layout.mode === 'v2') {
    const dir = join(layout.root, path);
    const [current, max, peak, stat] = await Promise.all([
      read(join(dir, 'memory.current')),
      read(join(dir, 'memory.max')),
      read(join(dir, 'memory.peak')),
      read(join(dir, 'memory.stat')),
    ]);
    const limit = max.trim() === 'max' || !max.trim() ? os.totalmem() : Number(max);
    return {
      usage: Number(current) || 0,
      max_usage: Number(peak) || undefined,
      limit,
      stats: parseKeyValues(stat),
    };
  }
  const dir = controllerDir(layout, 'memory', path) ?? '';
  const [usage, maxUsage, limit, stat] = await Promise.all([
    read(join(dir, 'memory.usage_in_bytes')),
    read(join(dir, 'memory.max_usage_in_bytes')),
    read(join(dir, 'memory.limit_in_bytes')),
    read(join(dir, 'memory.stat')),
  ]);
  const lim = Number(limit) || unlimitedV1;
  return {
    usage: Number(usage) || 0,
    max_usage: Number(maxUsage) || 0,
    limit: lim >= unlimitedV1 ? os.totalmem() : Math.min(lim, os.totalmem()),
    stats: parseKeyValues(stat),
  };
}

async function readPids(layout: CgroupLayout, id: string): Promise<StatsSample['pids_stats']> {
  const dir = controllerDir(layout, 'pids', containerCgroupsPath(id)) ?? '';
  const [current, max] = await Promise.all([read(join(dir, 'pids.current')), read(join(dir, 'pids.max'))]);
  const out: StatsSample['pids_stats'] = { current: Number(current) || 0 };
  if (max.trim() && max.trim() !== 'max') out.limit = Number(max);
  return out;
}

/** Interface counters from inside the container's network namespace, via its init's /proc. */
async function readNetworks(pid: number): Promise<Record<string, NetworkStats> | undefined> {
  if (!pid) return undefined;
  const text = await read(`/proc/${pid}/net/dev`);
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!name || !rest || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    out[name.trim()] = {
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    };
  }
  return Object.keys(out).length ? out : undefined;
}

/** Host CPU time in nanoseconds, from the first line of /proc/stat (as Docker computes it). */
async function systemCpuUsage(): Promise<number> {
  const line = (await read('/proc/stat')).split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number);
  return (ticks.reduce((a, b) => a + b, 0) * 1e9) / clockTicks;
}

function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && !Number.isNaN(Number(v))) out[k] = Number(v);
  }
  return out;
}

function read(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

function zeroCpu(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function emptyBlkio(): Record<string, unknown> {
  return {
    io_service_bytes_recursive: null,
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  };
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
