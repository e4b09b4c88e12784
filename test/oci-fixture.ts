/**
 * Fixtures for the engine/oci integration tests and benchmarks: a busybox root
 * filesystem made from Debian's busybox-static (applet symlinks to /bin/busybox),
 * and an OCI bundle around it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OciSpec } from '../src/engine/oci/oci-spec.ts';

export const busyboxPath = '/bin/busybox';

/** Makes `<dir>/rootfs` with busybox and its applets in /bin, plus /etc/passwd and /etc/group. */
export function makeBusyboxRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root'])
    mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(busyboxPath, join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['0755', join(rootfs, 'bin/busybox')]);
  const applets = execFileSync(busyboxPath, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nwheel:x:10:app\nnogroup:x:65534:\napp:x:1000:\n');
  return rootfs;
}

/** A temporary directory with the given prefix. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `<bundle>/config.json`. */
export function writeBundle(bundleDir: string, spec: OciSpec): void {
  mkdirSync(bundleDir, { recursive: true });
  writeFileSync(join(bundleDir, 'config.json'), JSON.stringify(spec));
}
