/**
 * Helpers for the images integration tests: tars built in memory, Docker
 * archives from a list of layers, and a scratch store that cleans up its
 * mounts and files even when a test fails.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { ImageStore } from '../src/engine/images/image-store.ts';
import { isMounted, unmount } from '../src/engine/images/overlay.ts';

export const REPO = join(import.meta.dirname, '..');
export const BUSYBOX_TAR = join(REPO, '.images', 'busybox.tar');

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  data?: string | Buffer;
  mode?: number;
  linkname?: string;
}

export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const out = pack();
  const chunks: Buffer[] = [];
  const done = pipeline(
    out,
    new PassThrough().on('data', (c: Buffer) => chunks.push(c)),
  );
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'directory' : 'file');
    await new Promise<void>((resolve, reject) =>
      out.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
          linkname: e.linkname,
          mtime: new Date(0),
        },
        e.data ?? '',
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  out.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A `docker save`-style archive (manifest.json + <hex>/layer.tar) of one image made of `layers`. */
export async function dockerArchive(layers: Buffer[], tags: string[], cmd = ['sh']): Promise<Buffer> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Cmd: cmd },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) },
      history: layers.map((_l, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const entries: Entry[] = [];
  for (const l of layers) {
    entries.push({ name: `${sha(l)}/`, type: 'directory' });
    entries.push({ name: `${sha(l)}/layer.tar`, data: l });
  }
  entries.push({ name: `${sha(config)}.json`, data: config.toString() });
  entries.push({
    name: 'manifest.json',
    data: JSON.stringify([
      { Config: `${sha(config)}.json`, RepoTags: tags, Layers: layers.map((l) => `${sha(l)}/layer.tar`) },
    ]),
  });
  return tarOf(entries);
}

export function streamOf(b: Buffer): Readable {
  return Readable.from([b]);
}

export async function bufferOf(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Makes sure .images/busybox.tar exists (the script is quick when it does). */
export function ensureBusyboxArchive(): string {
  execFileSync(join(REPO, 'scripts', 'build-busybox-image.sh'), { stdio: 'inherit' });
  if (!existsSync(BUSYBOX_TAR))
    throw new Error('scripts/build-busybox-image.sh did not produce .images/busybox.tar');
  return BUSYBOX_TAR;
}

/** A store in a fresh temporary directory; `cleanup` unmounts whatever is mounted under it. */
export async function scratchStore(inUse: Map<string, string[]> = new Map()) {
  const dir = await mkdtemp('/tmp/drv-images-test-');
  const store = new ImageStore({ root: join(dir, 'store'), containersUsing: (id) => inUse.get(id) ?? [] });
  await store.init();
  const cleanup = async () => {
    const info = await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/mountinfo', 'utf8'));
    const targets = info
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(dir))
      .reverse();
    try {
      for (const t of targets) if (await isMounted(t)) await unmount(t).catch(() => {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return { dir, store, cleanup };
}

/** Names under a directory (empty when it does not exist). */
export async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/**
 * An OCI image layout whose index points at a nested index with an arm64 and
 * an amd64 manifest (layers gzip-compressed), named by `name`.
 */
export async function ociArchive(layers: Buffer[], name: string, cmd: string[]): Promise<Buffer> {
  const { gzipSync } = await import('node:zlib');
  const blobs: Entry[] = [];
  const blob = (b: Buffer) => {
    blobs.push({ name: `blobs/sha256/${sha(b)}`, data: b });
    return { digest: `sha256:${sha(b)}`, size: b.length };
  };
  const manifestFor = (arch: string, command: string[]) => {
    const config = Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Cmd: command },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) },
        layers: layers.map((l) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          ...blob(gzipSync(l)),
        })),
      }),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...blob(manifest),
      platform: { architecture: arch, os: 'linux' },
    };
  };
  const nested = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [manifestFor('arm64', ['wrong-arch']), manifestFor('amd64', cmd)],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        ...blob(nested),
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' },
      },
    ],
  };
  return tarOf([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    ...blobs,
  ]);
}
