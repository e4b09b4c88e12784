/**
 * Conformance suite for engine/oci's Runtime, run against crun and runc with
 * real conmon, real cgroups and a busybox rootfs. Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readStats } from '../src/engine/oci/cgroup-stats.ts';
import {
  type CgroupLayout,
  cgroupDirs,
  containerCgroupsPath,
  detectCgroups,
  ensureHybridFix,
  freezerState,
} from '../src/engine/oci/cgroups.ts';
import { hostDevices } from '../src/engine/oci/devices.ts';
import { type HostInfo, readHostInfo } from '../src/engine/oci/host.ts';
import { Runtime } from '../src/engine/oci/runtime.ts';
import { StartError } from '../src/engine/oci/runtime-error.ts';
import { buildSpec, type SpecOptions } from '../src/engine/oci/spec.ts';
import { ensureTmpfs } from '../src/engine/oci/state-dir.ts';
import { ConflictError } from '../src/lib/errors.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { makeBusyboxRootfs, tempDir, writeBundle } from './oci-fixture.ts';

const canRun = process.getuid?.() === 0;

/** Polls `check` until it returns true or the deadline passes (for conditions with no event to wait on). */
async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Live (non-zombie) process? */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

for (const runtimeName of ['crun', 'runc']) {
  describe(`oci runtime conformance: ${runtimeName}`, { skip: !canRun && 'needs root' }, () => {
    let dir = '';
    let rootfs = '';
    let stateRoot = '';
    let layout: CgroupLayout;
    let host: HostInfo;
    let rt: Runtime;
    let n = 0;
    const ids: string[] = [];

    /** Writes a bundle for a fresh id and creates the container. */
    async function create(args: string[], extra: Partial<SpecOptions> = {}) {
      const id = `drv-oci-t-${runtimeName}-${process.pid}-${++n}`;
      ids.push(id);
      const bundleDir = join(dir, id);
      writeBundle(
        bundleDir,
        buildSpec({ rootfs, args, host, cgroupsPath: containerCgroupsPath(id), ...extra }),
      );
      const logPath = join(dir, `${id}.log`);
      const res = await rt.create({ id, bundleDir, logPath });
      return { id, logPath, ...res };
    }

    /** Creates, starts and waits for exit; returns the exit code and the log. */
    async function run(args: string[], extra: Partial<SpecOptions> = {}) {
      const c = await create(args, extra);
      const exited = rt.waitExit(c.id, AbortSignal.timeout(20000));
      await rt.start(c.id);
      const code = await exited;
      return { ...c, code, log: readFileSync(c.logPath, 'utf8') };
    }

    before(async () => {
      layout = await detectCgroups();
      await ensureHybridFix(silentLogger(), layout);
      host = await readHostInfo();
      dir = tempDir(`drv-oci-t-${runtimeName}-`);
      rootfs = makeBusyboxRootfs(dir);
      stateRoot = join(dir, 'state');
      await ensureTmpfs(stateRoot, silentLogger(), '16m');
      rt = new Runtime({ runtime: runtimeName, stateRoot, log: silentLogger() });
    });

    after(async () => {
      for (const id of ids) await rt.delete(id, { force: true }).catch(() => {});
      rt.close();
      spawnSync('umount', [stateRoot]);
      rmSync(dir, { recursive: true, force: true });
    });

    test('exit code and CRI-format log', async () => {
      const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(r.code, 3);
      assert.match(r.log, /^\S+ stdout F out$/m);
      assert.match(r.log, /^\S+ stderr F err$/m);
      const info = await rt.exitInfo(r.id);
      assert.equal(info?.exitCode, 3);
      assert.equal(info?.oomKilled, false);
      assert.equal((await rt.state(r.id))?.status, 'stopped');
      await rt.delete(r.id);
      assert.equal(await rt.state(r.id), undefined);
      assert.equal(await rt.exitInfo(r.id), undefined);
    });

    test('a missing command is StartError 127, a non-executable one 126', async () => {
      await assert.rejects(create(['no-such-cmd']), (err: unknown) => {
        assert.ok(err instanceof StartError, String(err));
        assert.equal(err.exitCode, 127);
        assert.match(err.message, /^creating container .*no-such-cmd/);
        return true;
      });
      writeFileSync(join(rootfs, 'bin/not-exec'), '#!/bin/sh\n');
      chmodSync(join(rootfs, 'bin/not-exec'), 0o644);
      await assert.rejects(create(['/bin/not-exec']), (err: unknown) => {
        assert.ok(err instanceof StartError, String(err));
        assert.equal(err.exitCode, 126);
        return true;
      });
      assert.deepEqual(await rt.list(), []);
    });

    test('creating an id that exists is a ConflictError and leaves the first one alone', async () => {
      const c = await create(['sleep', '60']);
      const bundleDir = join(dir, c.id);
      await assert.rejects(rt.create({ id: c.id, bundleDir, logPath: c.logPath }), ConflictError);
      await rt.start(c.id);
      assert.equal((await rt.state(c.id))?.status, 'running');
      const exited = rt.waitExit(c.id);
      await rt.kill(c.id, 'KILL');
      assert.equal(await exited, 137, 'the exit file of the first container survived');
      await rt.delete(c.id);
    });

    test('unknown ids: state is undefined, forced delete succeeds', async () => {
      assert.equal(await rt.state('drv-oci-t-nope'), undefined);
      await rt.delete('drv-oci-t-nope', { force: true });
    });

    test('PID 1 ignoring SIGTERM is stopped by SIGKILL (137)', async () => {
      const c = await create(['sleep', '60']);
      await rt.start(c.id);
      assert.equal((await rt.state(c.id))?.status, 'running');
      const exited = rt.waitExit(c.id);
      await rt.kill(c.id, 'TERM');
      const raced = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r('still running'), 300)),
      ]);
      assert.equal(raced, 'still running');
      await rt.kill(c.id, 'SIGKILL');
      assert.equal(await exited, 137);
      await rt.delete(c.id);
    });

    test('pause and resume freeze the cgroup', async () => {
      const c = await create(['sleep', '60']);
      await rt.start(c.id);
      await rt.pause(c.id);
      assert.equal((await rt.state(c.id))?.status, 'paused');
      assert.equal(await freezerState(layout, containerCgroupsPath(c.id)), 'frozen');
      await rt.resume(c.id);
      assert.equal((await rt.state(c.id))?.status, 'running');
      assert.equal(await freezerState(layout, containerCgroupsPath(c.id)), 'thawed');
      await rt.delete(c.id, { force: true });
    });

    test('exec: output, exit code and start failures', async () => {
      const c = await create(['sleep', '60']);
      await rt.start(c.id);
      const h = await rt.exec(c.id, {
        args: ['sh', '-c', 'read x; echo "got $x"; id -u; echo warn >&2; exit 5'],
        user: { uid: 1000, gid: 1000 },
      });
      h.stdin.end('hello\n');
      let out = '';
      let errOut = '';
      h.stdout.on('data', (d: Buffer) => (out += d));
      h.stderr.on('data', (d: Buffer) => (errOut += d));
      assert.equal(await h.exited, 5);
      assert.equal(out, 'got hello\n1000\n');
      assert.equal(errOut, 'warn\n');
      const bad = await rt.exec(c.id, { args: ['no-such-cmd'] });
      await assert.rejects(bad.exited, (err: unknown) => err instanceof StartError && err.exitCode === 127);
      await rt.delete(c.id, { force: true });
    });

    test('memory limit: a memory hog is OOM-killed', async () => {
      const r = await run(['sh', '-c', 'x=$(head -c 200m /dev/zero | tr "\\0" a); echo survived'], {
        resources: { memory: 32 * 1024 * 1024 },
      });
      assert.equal(r.code, 137, r.log);
      assert.doesNotMatch(r.log, /survived/);
      assert.equal((await rt.exitInfo(r.id))?.oomKilled, true);
      await rt.delete(r.id);
    });

    test('pids limit stops a fork bomb; stats see it', async () => {
      const c = await create(
        ['sh', '-c', '(for i in $(seq 1 40); do sleep 60 & done); echo forked; exec sleep 60'],
        {
          resources: { pidsLimit: 10 },
        },
      );
      await rt.start(c.id);
      await until(() => readFileSync(c.logPath, 'utf8').includes('forked'));
      const stats = await readStats(layout, containerCgroupsPath(c.id));
      assert.equal(stats.pids.limit, 10);
      assert.ok(stats.pids.current <= 10 && stats.pids.current >= 5, `pids ${stats.pids.current}`);
      assert.match(readFileSync(c.logPath, 'utf8'), /can't fork|Resource temporarily unavailable/);
      assert.ok(stats.memory.usage > 0);
      assert.ok(stats.cpu.totalNs > 0);
      await rt.delete(c.id, { force: true });
    });

    test('privileged: all capabilities and the host devices; default: neither', async () => {
      const script = 'grep CapEff /proc/self/status; test -b /dev/loop0 && echo has-loop0; exit 0';
      const priv = await run(['sh', '-c', script], { privileged: true, devices: await hostDevices() });
      const plain = await run(['sh', '-c', script]);
      const capEff = (log: string) => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(log)?.[1] ?? '0'}`);
      assert.ok(capEff(priv.log) > capEff(plain.log), `${priv.log}\n${plain.log}`);
      assert.match(priv.log, /has-loop0/);
      assert.doesNotMatch(plain.log, /has-loop0/);
      await rt.delete(priv.id);
      await rt.delete(plain.id);
    });

    test('the container outlives the process that started it (conmon detached)', async () => {
      const id = `drv-oci-t-${runtimeName}-${process.pid}-detached`;
      ids.push(id);
      const bundleDir = join(dir, id);
      writeBundle(
        bundleDir,
        buildSpec({ rootfs, args: ['sleep', '60'], host, cgroupsPath: containerCgroupsPath(id) }),
      );
      const script = `
        import { Runtime } from ${JSON.stringify(new URL('../src/engine/oci/runtime.ts', import.meta.url).href)};
        import { silentLogger } from ${JSON.stringify(new URL('../src/lib/logger.ts', import.meta.url).href)};
        const rt = new Runtime({ runtime: ${JSON.stringify(runtimeName)}, stateRoot: ${JSON.stringify(stateRoot)}, log: silentLogger() });
        const r = await rt.create({ id: ${JSON.stringify(id)}, bundleDir: ${JSON.stringify(bundleDir)}, logPath: ${JSON.stringify(join(dir, `${id}.log`))} });
        await rt.start(${JSON.stringify(id)});
        console.log(JSON.stringify(r));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      const { conmonPid, pid } = JSON.parse(out) as { conmonPid: number; pid: number };
      assert.ok(isAlive(conmonPid), 'conmon survives its starter');
      const st = await rt.state(id);
      assert.equal(st?.status, 'running');
      assert.equal(st?.pid, pid);
      const exited = rt.waitExit(id);
      await rt.kill(id, 'KILL');
      assert.equal(await exited, 137);
      await until(() => !isAlive(conmonPid));
      await rt.delete(id);
    });

    test('nothing is left behind', async () => {
      for (const id of ids) await rt.delete(id, { force: true });
      assert.deepEqual(await rt.list(), []);
      for (const id of ids) {
        for (const d of cgroupDirs(layout, containerCgroupsPath(id)))
          assert.ok(!existsSync(d), `leftover cgroup ${d}`);
      }
      assert.deepEqual(readdirSync(join(stateRoot, 'exits')), []);
      assert.deepEqual(readdirSync(join(stateRoot, 'containers')), []);
      // conmon exits right after writing the exit file; give it a moment.
      const conmons = () =>
        execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => l.includes('conmon') && l.includes(stateRoot) && !/^\s*\d+\s+Z/.test(l));
      await until(() => conmons().length === 0, 3000).catch(() => assert.deepEqual(conmons(), []));
    });
  });
}
