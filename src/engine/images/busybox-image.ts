/**
 * Builds the local base images `busybox:latest` and `busybox:<major.minor>`
 * from Debian's busybox-static, without the internet, as an archive that
 * `docker load` and our load both read. Run by scripts/build-busybox-image.sh:
 *
 *   node src/engine/images/busybox-image.ts OUTPUT.tar [BUSYBOX]
 *
 * The layer is written directly as a tar (no staging directory): every entry
 * is owned by root with a fixed mtime (the binary's), so the same binary gives
 * the same image id on every machine.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { ImageStore } from './image-store.ts';
import { hostPlatform, type ImageConfig, MEDIA } from './oci.ts';

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';
const DIRS: [string, number][] = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o555],
  ['root', 0o700],
  ['sys', 0o555],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['var', 0o755],
];

/** `BusyBox v1.35.0 (Debian ...)` → `1.35`. */
export function busyboxVersion(busybox: string): string {
  const banner = execFileSync(busybox, [], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const m = /BusyBox v(\d+)\.(\d+)/.exec(banner);
  if (!m) throw new Error(`reading the busybox version: unexpected banner "${banner}"`);
  return `${m[1]}.${m[2]}`;
}

/** The rootfs layer as an uncompressed tar. */
export async function busyboxLayer(busybox: string, mtime: Date): Promise<Buffer> {
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const out = pack();
  const chunks: Buffer[] = [];
  const collected = pipeline(
    out,
    new PassThrough().on('data', (c: Buffer) => chunks.push(c)),
  );
  const add = (h: Parameters<typeof out.entry>[0], data?: Buffer | string) =>
    new Promise<void>((resolve, reject) =>
      out.entry({ uid: 0, gid: 0, mtime, ...h }, data ?? Buffer.alloc(0), (e) => (e ? reject(e) : resolve())),
    );
  for (const [name, mode] of DIRS) await add({ name: `${name}/`, type: 'directory', mode });
  await add({ name: 'bin/busybox', type: 'file', mode: 0o755 }, await readFile(busybox));
  for (const a of applets) {
    if (a !== 'busybox') await add({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
  }
  await add({ name: 'usr/bin/env', type: 'symlink', linkname: '../../bin/env', mode: 0o777 });
  await add({ name: 'etc/passwd', type: 'file', mode: 0o644 }, PASSWD);
  await add({ name: 'etc/group', type: 'file', mode: 0o644 }, GROUP);
  out.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Builds the archive at `output` (atomically), using a scratch store beside it. */
export async function buildBusyboxArchive(
  output: string,
  busybox = '/bin/busybox',
): Promise<{ id: string; tags: string[] }> {
  const mtime = new Date(Math.floor((await stat(busybox)).mtimeMs / 1000) * 1000);
  const version = busyboxVersion(busybox);
  const scratch = join(dirname(output), `.build-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    const store = new ImageStore({ root: scratch });
    await store.init();
    const layer = await busyboxLayer(busybox, mtime);
    const layerDigest = await store.content.put(layer);
    const created = mtime.toISOString();
    const config: ImageConfig = {
      ...hostPlatform(),
      created,
      config: { Env: [PATH_ENV], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      history: [
        { created, created_by: `drover: Debian busybox-static ${version}, applets linked in /bin` },
        { created, created_by: 'CMD ["sh"]', empty_layer: true },
      ],
    };
    const tags = ['docker.io/library/busybox:latest', `docker.io/library/busybox:${version}`];
    const { id } = await store.register({
      config: Buffer.from(JSON.stringify(config)),
      layers: [{ mediaType: MEDIA.ociLayer, digest: layerDigest, size: layer.length }],
      tags,
    });
    const tmp = `${output}.tmp-${process.pid}`;
    await pipeline(await store.save(['busybox:latest', `busybox:${version}`]), createWriteStream(tmp));
    await rename(tmp, output);
    return { id, tags };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [output, busybox] = process.argv.slice(2);
  if (!output) {
    process.stderr.write('usage: busybox-image.ts OUTPUT.tar [BUSYBOX]\n');
    process.exit(2);
  }
  const { id, tags } = await buildBusyboxArchive(output, busybox);
  process.stdout.write(`${id} ${tags.join(' ')}\n`);
}
