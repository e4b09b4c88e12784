/**
 * What a seccomp profile costs per container start: bare `crun run` of `true`
 * on the same busybox bundle with no profile, with Drover's default deny-list,
 * and with a Docker/podman-like allow-list (podman's /usr/share/containers/seccomp.json,
 * flattened). Prints medians of 20 runs. Run: node bench/oci-seccomp.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHybridFix } from '../src/engine/oci/cgroups.ts';
import { readHostInfo } from '../src/engine/oci/host.ts';
import type { OciSeccomp } from '../src/engine/oci/oci-spec.ts';
import { buildSpec } from '../src/engine/oci/spec.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { makeBusyboxRootfs, tempDir, writeBundle } from '../test/oci-fixture.ts';

const runs = 20;

function allowList(): OciSeccomp | undefined {
  const file = '/usr/share/containers/seccomp.json';
  if (!existsSync(file)) return undefined;
  const p = JSON.parse(readFileSync(file, 'utf8')) as { syscalls: { names: string[]; action: string }[] };
  const names = [...new Set(p.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW').flatMap((s) => s.names))];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

await ensureHybridFix(silentLogger());
const host = await readHostInfo();
const dir = tempDir('drv-oci-bench-');
try {
  const rootfs = makeBusyboxRootfs(dir);
  const variants: [string, 'unconfined' | 'default' | OciSeccomp | undefined][] = [
    ['none (unconfined)', 'unconfined'],
    ['drover default deny-list', 'default'],
    ['docker-like allow-list', allowList()],
  ];
  const results: [string, number][] = [];
  for (const [name, seccomp] of variants) {
    if (!seccomp) continue;
    const bundle = join(dir, name.replace(/\W+/g, '-'));
    writeBundle(bundle, buildSpec({ rootfs, args: ['/bin/true'], seccomp, host }));
    const times: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('crun', ['run', '--bundle', bundle, `drv-oci-bench-${process.pid}`], {
        stdio: 'inherit',
      });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`crun run failed for ${name}`);
      if (i >= 2) times.push(ms);
    }
    results.push([name, median(times)]);
  }
  const base = results[0]?.[1] ?? 1;
  for (const [name, ms] of results)
    console.log(`${name.padEnd(28)} ${ms.toFixed(1)} ms  (${(ms / base).toFixed(2)}x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
