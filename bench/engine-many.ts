/**
 * 100 detached `sleep 1000` containers started one after another (create +
 * start through the API, default bridge network), beside podman doing the same
 * in the same run. Reports the total time, the daemon's RSS when idle and its
 * growth per running container, and the per-container helper's memory (conmon
 * RSS/PSS from /proc/<pid>/smaps_rollup) for both. Cleans up all containers.
 * Targets (issue 2 §5): < 3 s total; < 100 KiB daemon RSS per container;
 * helper memory ≤ conmon's; daemon idle RSS < 60 MiB.
 * Run: node bench/engine-many.ts [N=100]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { busyboxArchive, median, rollupKiB, rssKiB, startDaemon } from './engine-daemon.ts';

const n = Number(process.argv[2] ?? 100);
const podmanLimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const podmanImage = 'localhost/busybox:latest';
const podmanPrefix = `drv-bench-many-${process.pid}-`;

/** Pids of conmon processes whose command line mentions `needle`. */
function conmonPids(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/conmon') || cmd.startsWith('conmon')) {
        if (cmd.includes(needle)) out.push(Number(e));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function helperMemory(pids: number[]): { rss: number; pss: number } {
  const r = pids.map((p) => rollupKiB(p));
  return { rss: median(r.map((x) => x.rss)), pss: median(r.map((x) => x.pss)) };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- Drover
const d = await startDaemon('many');
let idleDetail = { pss: 0, anon: 0, shared: 0 };
let drover: { total: number; idle: number; grown: number; helper: { rss: number; pss: number } };
try {
  // One throw-away container first, so the first-use costs (code paths compiled, the
  // bridge and its nft table created) are not counted as per-container growth.
  await d.api.runRm('busybox', ['true']);
  await settle(2000);
  const pid = d.child.pid as number;
  const idle = rssKiB(pid);
  const idleRollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(idleRollup)?.[1]);
  idleDetail = { pss: kib('Pss'), anon: kib('Anonymous'), shared: kib('Shared_Clean') };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const { Id } = JSON.parse(
      await d.api.ok('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '1000'] }),
    ) as { Id: string };
    await d.api.ok('POST', `/containers/${Id}/start`);
  }
  const total = performance.now() - t0;
  await settle(2000);
  const grown = rssKiB(pid) - idle;
  const pids = conmonPids(d.dir);
  if (pids.length !== n) console.error(`expected ${n} conmon processes, found ${pids.length}`);
  drover = { total, idle, grown, helper: helperMemory(pids) };
} finally {
  const t = performance.now();
  const left = await d.destroy();
  console.log(`drover: removed ${n} containers in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  if (left.length) console.error(`left behind: ${left.join(', ')}`);
}

// ---- podman
let podman: { total: number; helper: { rss: number; pss: number } } | undefined;
let podmanNote = '';
const names: string[] = [];
if (spawnSync('podman', ['load', '-i', busyboxArchive]).status === 0) {
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const name = `${podmanPrefix}${i}`;
      const r = spawnSync(
        'podman',
        ['run', '-d', '--name', name, ...podmanLimits, podmanImage, 'sleep', '1000'],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`podman run: ${r.stderr.trim()}`);
      names.push(name);
    }
    const total = performance.now() - t0;
    podman = { total, helper: helperMemory(conmonPids(podmanPrefix)) };
  } catch (err) {
    podmanNote = (err as Error).message;
  } finally {
    for (let i = 0; i < names.length; i += 25) {
      spawnSync('podman', ['rm', '-f', '-t', '0', ...names.slice(i, i + 25)]);
    }
  }
} else {
  podmanNote = 'podman load failed';
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`${n} detached sleep containers, started one after another (create + start)`);
console.log(`  drover total            ${s(drover.total)}  (target < 3 s)`);
if (podman) {
  console.log(
    `  podman total            ${s(podman.total)}  (podman / drover ${(podman.total / drover.total).toFixed(2)}x)`,
  );
} else {
  console.log(`  podman skipped: ${podmanNote}`);
}
console.log(
  `  drover idle RSS         ${(drover.idle / 1024).toFixed(1)} MiB  (target < 60 MiB; dockerd+containerd ~120 MiB)`,
);
console.log(
  `    of which anonymous ${(idleDetail.anon / 1024).toFixed(1)} MiB, shared clean (node's own code, shared by every node process) ${(idleDetail.shared / 1024).toFixed(1)} MiB; PSS ${(idleDetail.pss / 1024).toFixed(1)} MiB`,
);
console.log(
  `  drover RSS growth       ${(drover.grown / n).toFixed(1)} KiB per container  (target < 100 KiB)`,
);
const h = drover.helper;
console.log(`  helper (conmon) drover  RSS ${h.rss} KiB, PSS ${h.pss} KiB (median)`);
if (podman) {
  const p = podman.helper;
  console.log(
    `  helper (conmon) podman  RSS ${p.rss} KiB, PSS ${p.pss} KiB (median); ratio PSS ${(h.pss / p.pss).toFixed(2)}x`,
  );
}
