import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { type CgroupStats, readStats } from '../oci/cgroup-stats.ts';
import { type CgroupLayout, containerCgroupsPath } from '../oci/cgroups.ts';
import type { CpuStats, NetworkStats, StatsSample } from '../types.ts';
import type { ContainerRecord } from './record.ts';

const clockTicks = 100; // USER_HZ on Linux

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
    const [cg, system] = await Promise.all([
      readStats(opts.cgroups, containerCgroupsPath(rec.id)).catch(() => undefined),
      systemCpuUsage(),
    ]);
    previous = { cpu: cg ? toDockerCpu(cg, system) : zeroCpu(), read: new Date().toISOString() };
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
  const [cg, system, networks] = await Promise.all([
    readStats(layout, containerCgroupsPath(rec.id)),
    systemCpuUsage(),
    readNetworks(rec.state.pid),
  ]);
  return {
    read: new Date().toISOString(),
    preread: previous?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: {
      current: cg.pids.current,
      ...(cg.pids.limit !== undefined ? { limit: cg.pids.limit } : {}),
    },
    blkio_stats: emptyBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: toDockerCpu(cg, system),
    precpu_stats: previous?.cpu ?? zeroCpu(),
    memory_stats: {
      usage: cg.memory.usage,
      max_usage: cg.memory.maxUsage,
      limit: cg.memory.limit ?? os.totalmem(),
      stats: cg.memory.stat,
    },
    networks,
    name: `/${rec.name}`,
    id: rec.id,
  };
}

function toDockerCpu(cg: CgroupStats, system: number): CpuStats {
  return {
    cpu_usage: {
      total_usage: cg.cpu.totalNs,
      percpu_usage: cg.cpu.perCpuNs,
      usage_in_kernelmode: cg.cpu.systemNs,
      usage_in_usermode: cg.cpu.userNs,
    },
    system_cpu_usage: system,
    online_cpus: os.availableParallelism(),
    throttling_data: {
      periods: cg.cpu.throttling.periods,
      throttled_periods: cg.cpu.throttling.throttledPeriods,
      throttled_time: cg.cpu.throttling.throttledTimeNs,
    },
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
