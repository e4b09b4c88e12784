/**
 * TTY exec (crun) and attach through conmon's socket (crun and runc), with the
 * native addon. Needs root.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerCgroupsPath, ensureHybridFix } from '../src/engine/oci/cgroups.ts';
import { type HostInfo, readHostInfo } from '../src/engine/oci/host.ts';
import { Runtime } from '../src/engine/oci/runtime.ts';
import { buildSpec, type SpecOptions } from '../src/engine/oci/spec.ts';
import { ensureTmpfs } from '../src/engine/oci/state-dir.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { makeBusyboxRootfs, tempDir, writeBundle } from './oci-fixture.ts';

const canRun = process.getuid?.() === 0;

/** Collects a stream's text and resolves once it contains `want` (or rejects at the deadline). */
function waitFor(stream: NodeJS.ReadableStream, want: string | RegExp, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`did not see ${want} in ${JSON.stringify(text)}`)), ms);
    const check = (d?: Buffer) => {
      if (d) text += d.toString();
      if (typeof want === 'string' ? text.includes(want) : want.test(text)) {
        clearTimeout(timer);
        stream.off('data', check);
        resolve(text);
      }
    };
    stream.on('data', check);
  });
}

for (const runtimeName of ['crun', 'runc']) {
  describe(`oci terminal and attach: ${runtimeName}`, { skip: !canRun && 'needs root' }, () => {
    let dir = '';
    let rootfs = '';
    let stateRoot = '';
    let host: HostInfo;
    let rt: Runtime;
    let n = 0;
    const ids: string[] = [];

    async function create(args: string[], extra: Partial<SpecOptions>, stdin: boolean) {
      const id = `drv-oci-tty-${runtimeName}-${process.pid}-${++n}`;
      ids.push(id);
      const bundleDir = join(dir, id);
      writeBundle(
        bundleDir,
        buildSpec({ rootfs, args, host, cgroupsPath: containerCgroupsPath(id), ...extra }),
      );
      await rt.create({ id, bundleDir, logPath: join(dir, `${id}.log`), stdin, terminal: !!extra.terminal });
      return id;
    }

    before(async () => {
      await ensureHybridFix(silentLogger());
      host = await readHostInfo();
      dir = tempDir(`drv-oci-tty-${runtimeName}-`);
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

    test('attach: stdin in, stdout and stderr apart', async () => {
      const id = await create(['sh', '-c', 'read x; echo "got $x"; echo oops >&2; sleep 60'], {}, true);
      const a = rt.attach(id);
      const out = waitFor(a.stdout, 'got hello\n');
      const err = waitFor(a.stderr, 'oops\n');
      await rt.start(id);
      a.stdin.write('hello\n');
      assert.equal(await out, 'got hello\n');
      assert.equal(await err, 'oops\n');
      a.close();
      assert.equal((await rt.state(id))?.status, 'running', 'detaching leaves the container running');
      await rt.delete(id, { force: true });
    });

    test('attach to a TTY container with resize', async () => {
      const id = await create(['sh', '-c', 'read x; stty size; sleep 60'], { terminal: true }, true);
      const a = rt.attach(id);
      await rt.start(id);
      // conmon applies the size once it has the pty; the fifo keeps the line until then.
      await a.resize(33, 101);
      const seen = waitFor(a.stdout, /33 101/);
      a.stdin.write('go\n');
      await seen;
      a.close();
      await rt.delete(id, { force: true });
    });

    test('exec with a TTY: input, resize, exit code', {
      skip: runtimeName === 'runc' && 'crun only',
    }, async () => {
      const id = await create(['sleep', '60'], {}, false);
      await rt.start(id);
      const h = await rt.execTty(id, {
        args: ['sh', '-c', 'read x; stty size; tty; exit 3'],
        rows: 10,
        cols: 40,
      });
      const seen = waitFor(h.output, /30 100\r\n\/dev\/pts\/\d+/);
      await h.resize(30, 100);
      h.input.write('go\n');
      await seen;
      assert.equal(await h.exited, 3);
      await rt.delete(id, { force: true });
    });
  });
}
