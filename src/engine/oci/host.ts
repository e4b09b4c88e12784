/**
 * What the daemon itself is allowed, read once at start: its hard rlimits
 * (/proc/self/limits), its capability bounding set and whether the kernel
 * accounts swap. buildSpec never asks for more than this, because crun fails
 * the whole create when it cannot grant a limit or a capability.
 */
import { access, readFile } from 'node:fs/promises';
import { InvalidError } from '../../lib/errors.ts';
import { allCapabilities, capabilitiesFromMask } from './capabilities.ts';
import type { OciRlimit } from './oci-spec.ts';

export interface HostInfo {
  /** `RLIMIT_NOFILE` → the daemon's soft and hard limits (Infinity for unlimited). */
  rlimits: Map<string, { soft: number; hard: number }>;
  /** Capabilities in the daemon's bounding set (`CAP_...`). */
  bounding: string[];
  /** True when a memory+swap limit can be set (v1 memsw files or v2 memory.swap.max). */
  swapLimit: boolean;
}

/** /proc/self/limits row names to RLIMIT_ names. */
const limitNames: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Parses the text of /proc/<pid>/limits. */
export function parseProcLimits(text: string): Map<string, { soft: number; hard: number }> {
  const out = new Map<string, { soft: number; hard: number }>();
  const num = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  for (const line of text.split('\n')) {
    for (const [label, name] of Object.entries(limitNames)) {
      if (!line.startsWith(label)) continue;
      const [soft, hard] = line.slice(label.length).trim().split(/\s+/);
      if (soft && hard) out.set(name, { soft: num(soft), hard: num(hard) });
    }
  }
  return out;
}

/** Reads the daemon's limits, bounding set and swap accounting. */
export async function readHostInfo(cgroupRoot = '/sys/fs/cgroup'): Promise<HostInfo> {
  const [limits, status] = await Promise.all([
    readFile('/proc/self/limits', 'utf8'),
    readFile('/proc/self/status', 'utf8'),
  ]);
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  const swapLimit =
    (await exists(`${cgroupRoot}/memory/memory.memsw.limit_in_bytes`)) ||
    (await exists(`${cgroupRoot}/drover/memory.swap.max`)) ||
    (await exists(`${cgroupRoot}/init.scope/memory.swap.max`));
  return {
    rlimits: parseProcLimits(limits),
    bounding: bnd ? capabilitiesFromMask(bnd) : [...allCapabilities],
    swapLimit,
  };
}

/** `nofile`, `NOFILE`, `RLIMIT_NOFILE` → `RLIMIT_NOFILE`. */
export function normalizeRlimitName(name: string): string {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith('RLIMIT_') ? upper : `RLIMIT_${upper}`;
  if (!Object.values(limitNames).includes(full)) throw new InvalidError(`unknown ulimit: "${name}"`);
  return full;
}

/** Docker's default: containerd gives every container NOFILE 1048576 (clamped below). */
export const defaultRlimits: readonly OciRlimit[] = [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }];

/**
 * Merges requested rlimits over the defaults and clamps each to the daemon's
 * hard limit (never asking for more: without CAP_SYS_RESOURCE crun's setrlimit
 * would fail the create). Soft never exceeds hard.
 */
export function clampRlimits(requested: readonly OciRlimit[], host: HostInfo['rlimits']): OciRlimit[] {
  const merged = new Map<string, OciRlimit>();
  for (const r of [...defaultRlimits, ...requested]) {
    const type = normalizeRlimitName(r.type);
    merged.set(type, { type, soft: r.soft, hard: r.hard });
  }
  const out: OciRlimit[] = [];
  for (const r of merged.values()) {
    const max = host.get(r.type)?.hard ?? Number.POSITIVE_INFINITY;
    // A negative request means unlimited; it still cannot exceed the host's hard limit.
    const want = (v: number) => (v < 0 ? Number.POSITIVE_INFINITY : v);
    const hard = Math.min(want(r.hard), max);
    const soft = Math.min(want(r.soft), hard);
    out.push({ type: r.type, soft: finite(soft), hard: finite(hard) });
  }
  return out;
}

/**
 * Unlimited is RLIM_INFINITY (2^64-1) in the spec, which a JSON number cannot
 * carry exactly; 2^53-1 is as good as unlimited for every rlimit.
 */
function finite(v: number): number {
  return Number.isFinite(v) ? v : Number.MAX_SAFE_INTEGER;
}
