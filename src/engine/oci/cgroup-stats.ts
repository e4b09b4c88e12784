/**
 * Resource usage of a container's cgroup, read straight from cgroupfs (v1 or
 * v2): no runtime process is spawned, so `stats` streams stay cheap. Numbers
 * are raw counters; rates (CPU %) are the caller's (two samples).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../lib/errors.ts';
import { type CgroupLayout, controllerDir } from './cgroups.ts';

export interface CgroupStats {
  cpu: {
    totalNs: number;
    userNs: number;
    systemNs: number;
    /** v1 only (cpuacct.usage_percpu). */
    perCpuNs?: number[];
    throttling: { periods: number; throttledPeriods: number; throttledTimeNs: number };
  };
  memory: {
    usage: number;
    /** Peak usage (v1 max_usage_in_bytes, v2 memory.peak when the kernel has it). */
    maxUsage?: number;
    /** undefined when unlimited. */
    limit?: number;
    /** memory.stat as numbers (v1 and v2 key names differ: `cache`/`rss` vs `file`/`anon`). */
    stat: Record<string, number>;
    failcnt?: number;
    /** Times the cgroup hit its limit and the OOM killer ran (v1 under_oom events are not counted). */
    oomEvents: number;
    /** Processes killed by the OOM killer in this cgroup. */
    oomKills: number;
  };
  pids: { current: number; limit?: number };
}

async function text(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP') return undefined;
    throw err;
  }
}

/** `key value` lines to a map. */
export function parseFlatKeyed(s: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (s ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

const num = (s: string | undefined) => {
  const t = s?.trim();
  return t && /^\d+$/.test(t) ? Number(t) : undefined;
};

/** v1 "no limit" is a huge page-aligned number; v2 says "max". */
const limitOf = (s: string | undefined) => {
  const n = num(s);
  return n === undefined || n >= 2 ** 62 ? undefined : n;
};

async function readV1(layout: CgroupLayout, path: string): Promise<CgroupStats> {
  const acct = controllerDir(layout, 'cpuacct', path);
  const cpu = controllerDir(layout, 'cpu', path);
  const mem = controllerDir(layout, 'memory', path);
  const pids = controllerDir(layout, 'pids', path);
  const f = (dir: string | undefined, name: string) => text(dir && join(dir, name));
  const [usage, user, sys, percpu, cpuStat, mUsage, mMax, mLimit, mStat, mFail, oom, pCur, pMax] =
    await Promise.all([
      f(acct, 'cpuacct.usage'),
      f(acct, 'cpuacct.usage_user'),
      f(acct, 'cpuacct.usage_sys'),
      f(acct, 'cpuacct.usage_percpu'),
      f(cpu, 'cpu.stat'),
      f(mem, 'memory.usage_in_bytes'),
      f(mem, 'memory.max_usage_in_bytes'),
      f(mem, 'memory.limit_in_bytes'),
      f(mem, 'memory.stat'),
      f(mem, 'memory.failcnt'),
      f(mem, 'memory.oom_control'),
      f(pids, 'pids.current'),
      f(pids, 'pids.max'),
    ]);
  if (usage === undefined && mUsage === undefined && pCur === undefined) {
    throw new NotFoundError(`reading stats: no cgroup at ${path}`);
  }
  const cs = parseFlatKeyed(cpuStat);
  const oomc = parseFlatKeyed(oom);
  const oomKills = oomc.oom_kill ?? 0;
  return {
    cpu: {
      totalNs: num(usage) ?? 0,
      userNs: num(user) ?? 0,
      systemNs: num(sys) ?? 0,
      ...(percpu ? { perCpuNs: percpu.trim().split(/\s+/).map(Number) } : {}),
      throttling: {
        periods: cs.nr_periods ?? 0,
        throttledPeriods: cs.nr_throttled ?? 0,
        throttledTimeNs: cs.throttled_time ?? 0,
      },
    },
    memory: {
      usage: num(mUsage) ?? 0,
      ...(num(mMax) !== undefined ? { maxUsage: num(mMax) } : {}),
      ...(limitOf(mLimit) !== undefined ? { limit: limitOf(mLimit) } : {}),
      stat: parseFlatKeyed(mStat),
      ...(num(mFail) !== undefined ? { failcnt: num(mFail) } : {}),
      oomEvents: oomKills,
      oomKills,
    },
    pids: { current: num(pCur) ?? 0, ...(limitOf(pMax) !== undefined ? { limit: limitOf(pMax) } : {}) },
  };
}

async function readV2(layout: CgroupLayout, path: string): Promise<CgroupStats> {
  const dir = join(layout.root, path);
  const f = (name: string) => text(join(dir, name));
  const [cpuStat, mCur, mPeak, mMax, mStat, mEvents, pCur, pMax] = await Promise.all([
    f('cpu.stat'),
    f('memory.current'),
    f('memory.peak'),
    f('memory.max'),
    f('memory.stat'),
    f('memory.events'),
    f('pids.current'),
    f('pids.max'),
  ]);
  if (cpuStat === undefined && mCur === undefined)
    throw new NotFoundError(`reading stats: no cgroup at ${path}`);
  const cs = parseFlatKeyed(cpuStat);
  const ev = parseFlatKeyed(mEvents);
  return {
    cpu: {
      totalNs: (cs.usage_usec ?? 0) * 1000,
      userNs: (cs.user_usec ?? 0) * 1000,
      systemNs: (cs.system_usec ?? 0) * 1000,
      throttling: {
        periods: cs.nr_periods ?? 0,
        throttledPeriods: cs.nr_throttled ?? 0,
        throttledTimeNs: (cs.throttled_usec ?? 0) * 1000,
      },
    },
    memory: {
      usage: num(mCur) ?? 0,
      ...(num(mPeak) !== undefined ? { maxUsage: num(mPeak) } : {}),
      ...(limitOf(mMax) !== undefined ? { limit: limitOf(mMax) } : {}),
      stat: parseFlatKeyed(mStat),
      ...(ev.max !== undefined ? { failcnt: ev.max } : {}),
      oomEvents: ev.oom ?? 0,
      oomKills: ev.oom_kill ?? 0,
    },
    pids: { current: num(pCur) ?? 0, ...(limitOf(pMax) !== undefined ? { limit: limitOf(pMax) } : {}) },
  };
}

/** Stats of the cgroup at `cgroupsPath` (e.g. `/drover/<id>`). NotFoundError when it does not exist. */
export function readStats(layout: CgroupLayout, cgroupsPath: string): Promise<CgroupStats> {
  return layout.mode === 'v2' ? readV2(layout, cgroupsPath) : readV1(layout, cgroupsPath);
}
