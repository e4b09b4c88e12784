/**
 * Start latency of the OCI layer: create (conmon + runtime create) + start +
 * wait for exit (+ delete) of `true` through Runtime, beside bare `crun run` of
 * the same bundle (the floor). Medians of 20 runs; also conmon's RSS.
 * Run: node bench/oci-runtime.ts [crun|runc]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroupsPath, ensureHybridFix } from '../src/engine/oci/cgroups.ts';
import { readHostInfo } from '../src/engine/oci/host.ts';
import { Runtime } from '../src/engine/oci/runtime.ts';
import { buildSpec } from '../src/engine/oci/spec.ts';
import { ensureTmpfs } from '../src/engine/oci/state-dir.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { makeBusyboxRootfs, tempDir, writeBundle } from '../test/oci-fixture.ts';

const runs = Number(process.env.DROVER_BENCH_RUNS ?? 20);
const runtimeName = process.argv[2] ?? 'crun';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

await ensureHybridFix(silentLogger());
const host = await readHostInfo();
const dir = tempDir('drv-oci-bench-');
const stateRoot = join(dir, 'state');
// As the daemon does: runtime state on tmpfs (conmon fsyncs exit files). DROVER_BENCH_DISK=1 keeps it on disk.
const onTmpfs = !process.env.DROVER_BENCH_DISK && (await ensureTmpfs(stateRoot, silentLogger()));
const rt = new Runtime({ runtime: runtimeName, stateRoot, log: silentLogger() });
try {
  const rootfs = makeBusyboxRootfs(dir);
  const bundle = join(dir, 'bundle');
  const id = `drv-oci-bench-${process.pid}`;
  writeBundle(
    bundle,
    buildSpec({ rootfs, args: ['/bin/true'], host, cgroupsPath: containerCgroupsPath(id) }),
  );

  // Interleaved (bare, ours, bare, ours ...) so that load from other processes hits both alike.
  const bare: number[] = [];
  const phases = {
    create: [] as number[],
    start: [] as number[],
    wait: [] as number[],
    delete: [] as number[],
  };
  const total: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const b0 = performance.now();
    const r = spawnSync(rt.runtimePath, ['run', '--bundle', bundle, id], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bare run failed');
    const b1 = performance.now();
    const t0 = performance.now();
    await rt.create({ id, bundleDir: bundle, logPath: join(dir, 'ctr.log') });
    const t1 = performance.now();
    const exited = rt.waitExit(id);
    await rt.start(id);
    const t2 = performance.now();
    const code = await exited;
    const t3 = performance.now();
    await rt.delete(id);
    const t4 = performance.now();
    if (code !== 0) throw new Error(`exit ${code}`);
    if (i < 2) continue;
    bare.push(b1 - b0);
    phases.create.push(t1 - t0);
    phases.start.push(t2 - t1);
    phases.wait.push(t3 - t2);
    phases.delete.push(t4 - t3);
    total.push(t4 - t0);
  }

  // conmon RSS: one long-running container.
  writeBundle(
    bundle,
    buildSpec({ rootfs, args: ['sleep', '30'], host, cgroupsPath: containerCgroupsPath(id) }),
  );
  const { conmonPid } = await rt.create({ id, bundleDir: bundle, logPath: join(dir, 'ctr.log') });
  await rt.start(id);
  const status = readFileSync(`/proc/${conmonPid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${conmonPid}/smaps_rollup`, 'utf8');
  await rt.delete(id, { force: true });

  const floor = median(bare);
  const ours = median(total);
  console.log(`state dir on ${onTmpfs ? 'tmpfs' : 'disk'}`);
  console.log(`bare ${runtimeName} run (floor)          ${floor.toFixed(1)} ms`);
  const exitKnown = median(total.map((t, i) => t - (phases.delete[i] ?? 0)));
  const line = (label: string, ms: number) =>
    console.log(`${label.padEnd(34)} ${ms.toFixed(1)} ms  (${(ms / floor).toFixed(2)}x the floor)`);
  line('Runtime create+start+wait', exitKnown);
  line('Runtime create+start+wait+delete', ours);
  for (const [k, v] of Object.entries(phases)) console.log(`  ${k.padEnd(7)} ${median(v).toFixed(1)} ms`);
  console.log(`conmon ${/VmRSS:\s*(.*)/.exec(status)?.[1]} RSS, ${/Pss:\s*(.*)/.exec(rollup)?.[1]} PSS`);
} finally {
  rt.close();
  if (onTmpfs) spawnSync('umount', [stateRoot]);
  rmSync(dir, { recursive: true, force: true });
}
