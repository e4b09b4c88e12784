/**
 * `run --rm busybox true`, median of N runs, interleaved so that load from
 * other processes hits every variant alike:
 *   - the floor: bare `crun run` of a busybox bundle;
 *   - Drover through a minimal in-process API client (create, attach,
 *     wait?condition=removed, start: the docker CLI's calls) and through the
 *     real docker CLI, each with --network none and with the default bridge;
 *   - podman with --network none and its default (CNI bridge) network.
 * Targets (issue 2 §5): Drover ≤ 3x the floor with --network none, ≤ 6x with bridge.
 * Run: node bench/engine-run.ts [N=30]
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroupsPath, ensureHybridFix } from '../src/engine/oci/cgroups.ts';
import { readHostInfo } from '../src/engine/oci/host.ts';
import { buildSpec } from '../src/engine/oci/spec.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { makeBusyboxRootfs, tempDir, writeBundle } from '../test/oci-fixture.ts';
import { busyboxArchive, cpuMs, fmt, median, ratio, startDaemon } from './engine-daemon.ts';

const runs = Number(process.argv[2] ?? 30);
// Podman asks for rlimits above this host's hard limits unless told (runtime-stack.md, gotcha 2).
const podmanLimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

await ensureHybridFix(silentLogger());
const host = await readHostInfo();
const dir = tempDir('drv-bench-run-');
const rootfs = makeBusyboxRootfs(dir);
const bundle = join(dir, 'bundle');
const crunId = `drv-bench-run-${process.pid}`;
writeBundle(
  bundle,
  buildSpec({ rootfs, args: ['/bin/true'], host, cgroupsPath: containerCgroupsPath(crunId) }),
);

let podman = spawnSync('podman', ['load', '-i', busyboxArchive], { encoding: 'utf8' }).status === 0;
let podmanNote = podman ? '' : 'podman load failed';
const podmanImage = 'localhost/busybox:latest';
if (podman) {
  const r = spawnSync('podman', ['run', '--rm', '--network', 'none', ...podmanLimits, podmanImage, 'true'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    podman = false;
    podmanNote = `podman run failed: ${r.stderr.trim()}`;
  }
}

const d = await startDaemon('run');
// DROVER_BEFORE=<another checkout>/bin/drover adds that build's daemon to the same interleaved run.
const beforeBin = process.env.DROVER_BEFORE;
const b = beforeBin ? await startDaemon('bef', { bin: beforeBin }) : undefined;
const samples: Record<string, number[]> = {};
const variants: [string, () => Promise<void> | void][] = [
  [
    'crun run (floor)',
    () => check(spawnSync('crun', ['run', '--bundle', bundle, crunId]).status, 'crun run'),
  ],
  [
    'drover api, network none',
    async () => check(await d.api.runRm('busybox', ['true'], { NetworkMode: 'none' }), 'api none'),
  ],
  ['drover api, bridge', async () => check(await d.api.runRm('busybox', ['true']), 'api bridge')],
  [
    'drover docker CLI, network none',
    () => check(d.docker(['run', '--rm', '--network', 'none', 'busybox', 'true']).code, 'cli none'),
  ],
  ['drover docker CLI, bridge', () => check(d.docker(['run', '--rm', 'busybox', 'true']).code, 'cli bridge')],
  ...(b
    ? ([
        [
          'before: api, network none',
          async () => check(await b.api.runRm('busybox', ['true'], { NetworkMode: 'none' }), 'before none'),
        ],
        ['before: api, bridge', async () => check(await b.api.runRm('busybox', ['true']), 'before bridge')],
      ] as [string, () => Promise<void>][])
    : []),
  [
    'docker CLI alone (version)',
    () => check(d.docker(['version', '--format', '{{.Server.Version}}']).code, 'cli version'),
  ],
];
if (podman) {
  variants.push(
    [
      'podman, network none',
      () =>
        check(
          spawnSync('podman', ['run', '--rm', '--network', 'none', ...podmanLimits, podmanImage, 'true'])
            .status,
          'podman none',
        ),
    ],
    [
      'podman, bridge',
      () =>
        check(
          spawnSync('podman', ['run', '--rm', ...podmanLimits, podmanImage, 'true']).status,
          'podman bridge',
        ),
    ],
  );
}

function check(code: number | null, what: string): void {
  if (code !== 0) throw new Error(`${what} exited ${code}`);
}

const cpu0 = { d: cpuMs(d.child.pid as number), b: b ? cpuMs(b.child.pid as number) : 0 };
const cpu = { d: 0, b: 0 };
try {
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, fn] of variants) {
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      if (i < 2) continue;
      samples[name] = [...(samples[name] ?? []), ms];
    }
  }
  // Daemon CPU per container run: a figure that load from other processes does not inflate.
  cpu.d = (cpuMs(d.child.pid as number) - cpu0.d) / ((runs + 2) * 4);
  if (b) cpu.b = (cpuMs(b.child.pid as number) - cpu0.b) / ((runs + 2) * 2);
} finally {
  const left = [...(await d.destroy()), ...((await b?.destroy()) ?? [])];
  if (left.length) console.error(`left behind: ${left.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

const m = (k: string) => median(samples[k] ?? []);
const floor = m('crun run (floor)');
console.log(`run --rm busybox true, median of ${runs} (interleaved)`);
for (const [name] of variants) {
  console.log(`  ${name.padEnd(34)} ${fmt(m(name)).padStart(9)}  ${ratio(m(name), floor).padStart(7)} floor`);
}
if (!podman) console.log(`  podman skipped: ${podmanNote}`);
console.log(`daemon CPU (user+sys) per run --rm: ${fmt(cpu.d)}${b ? ` (before: ${fmt(cpu.b)})` : ''}`);
const cliOverhead = m('drover docker CLI, network none') - m('drover api, network none');
console.log(`docker CLI overhead (CLI none − API none): ${fmt(cliOverhead)}`);
console.log(
  `target: api none ≤ 3x floor → ${ratio(m('drover api, network none'), floor)}; api bridge ≤ 6x → ${ratio(m('drover api, bridge'), floor)}`,
);
if (podman) {
  console.log(
    `podman / drover api: none ${ratio(m('podman, network none'), m('drover api, network none'))}, bridge ${ratio(m('podman, bridge'), m('drover api, bridge'))}`,
  );
}
