/**
 * `docker load`: reads an image archive — Docker's (manifest.json, from any
 * `docker save`, including Docker 25's blobs/sha256 layout) or an OCI image
 * layout (oci-layout, index.json, blobs/) — plain or gzip, and registers every
 * image in it. The tar is spooled into `<root>/ingest` first (archives put
 * manifest.json last), then blobs are moved into the store without copying.
 * A failure removes the spool and any blob no image took.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { InvalidError } from '../../lib/errors.ts';
import type { ProgressMessage } from '../types.ts';
import type { ImageStore, NewImage } from './image-store.ts';
import { maybeGunzip } from './layer-tar.ts';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  type Descriptor,
  INDEX_MEDIA_TYPES,
  type Index,
  type Manifest,
  MEDIA,
  selectPlatform,
} from './oci.ts';
import { familiarReference, normalizeReference } from './reference.ts';
import { cleanName } from './whiteouts.ts';

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** A spooled archive: its files on disk and its symlinks (old `docker save` links shared layers). */
class Spool {
  readonly dir: string;
  readonly links = new Map<string, string>();
  readonly files = new Set<string>();
  private readonly adopted = new Map<string, Descriptor>();
  /** Gc leases on adopted blobs until their images are registered. */
  readonly releases: (() => void)[] = [];

  constructor(dir: string) {
    this.dir = dir;
  }

  resolve(name: string): string {
    let n = cleanName(name);
    for (let i = 0; i < 16 && this.links.has(n); i++) n = this.links.get(n) as string;
    if (!this.files.has(n)) throw new InvalidError(`loading images: the archive lacks "${name}"`);
    return n;
  }

  async read(name: string): Promise<Buffer> {
    return readFile(join(this.dir, this.resolve(name)));
  }

  async json<T>(name: string): Promise<T> {
    try {
      return JSON.parse((await this.read(name)).toString('utf8')) as T;
    } catch (err) {
      if (err instanceof InvalidError) throw err;
      throw new InvalidError(`loading images: "${name}" is not valid JSON`, { cause: err });
    }
  }

  /** Moves a layer file into the content store (once, however many images share it). */
  async adoptLayer(store: ImageStore, name: string, expected?: string): Promise<Descriptor> {
    const n = this.resolve(name);
    const hit = this.adopted.get(n);
    if (hit) return hit;
    const path = join(this.dir, n);
    const magic = Buffer.alloc(2);
    const fh = await open(path, 'r');
    try {
      await fh.read(magic, 0, 2, 0);
    } finally {
      await fh.close();
    }
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
    const { digest, size } = await store.content.adopt(path, expected);
    this.releases.push(store.lease([digest]));
    const d: Descriptor = { mediaType: gzip ? MEDIA.ociLayerGzip : MEDIA.ociLayer, digest, size };
    this.adopted.set(n, d);
    return d;
  }
}

async function spool(tar: Readable, dir: string): Promise<Spool> {
  const s = new Spool(dir);
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const name = cleanName(header.name);
    if (name.startsWith('..') || name === '') {
      stream.on('end', next).resume();
      return;
    }
    if (header.type === 'symlink' || header.type === 'link') {
      const target =
        header.type === 'symlink'
          ? posix.join(posix.dirname(name), header.linkname ?? '')
          : (header.linkname ?? '');
      s.links.set(name, cleanName(target));
      stream.on('end', next).resume();
      return;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      stream.on('end', next).resume();
      return;
    }
    const path = join(dir, name);
    mkdir(dirname(path), { recursive: true })
      .then(() => pipeline(stream, createWriteStream(path)))
      .then(() => {
        s.files.add(name);
        next();
      }, next);
  });
  try {
    await pipeline(tar, maybeGunzip(), ex);
  } catch (err) {
    throw new InvalidError(
      `loading images: the input is not a valid tar archive (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  return s;
}

/** Loads every image of the archive; reports Docker's "Loaded image: x" messages. */
export async function loadArchive(
  store: ImageStore,
  tar: Readable,
  onProgress: (m: ProgressMessage) => void = () => {},
): Promise<{ loaded: string[] }> {
  const dir = join(store.content.ingestDir, `load-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  const loaded: string[] = [];
  let s: Spool | undefined;
  let failed = false;
  try {
    s = await spool(tar, dir);
    const archive = s;
    const images = archive.files.has('manifest.json')
      ? await dockerImages(store, archive)
      : await ociImages(store, archive);
    for (const img of images) {
      const { id, moved } = await store.register(img);
      for (const m of moved) {
        onProgress({
          stream: `The image ${familiarReference(m.tag)} already exists, renaming the old one with ID ${m.from} to empty string\n`,
        });
      }
      const names = (img.tags ?? []).map(familiarReference);
      for (const n of names) onProgress({ stream: `Loaded image: ${n}\n` });
      if (names.length === 0) onProgress({ stream: `Loaded image ID: ${id}\n` });
      loaded.push(...(names.length > 0 ? names : [id]));
    }
    return { loaded };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    for (const r of s?.releases ?? []) r();
    await rm(dir, { recursive: true, force: true });
    // Blobs adopted for images that never got recorded.
    if (failed) await store.gc();
  }
}

async function dockerImages(store: ImageStore, s: Spool): Promise<NewImage[]> {
  const entries = await s.json<DockerManifestEntry[]>('manifest.json');
  if (!Array.isArray(entries)) throw new InvalidError('loading images: manifest.json is not a list');
  const out: NewImage[] = [];
  for (const e of entries) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) {
      throw new InvalidError('loading images: a manifest.json entry lacks Config or Layers');
    }
    const layers: Descriptor[] = [];
    for (const l of e.Layers) layers.push(await s.adoptLayer(store, l));
    out.push({ config: await s.read(e.Config), layers, tags: (e.RepoTags ?? []).map(tagOf) });
  }
  return out;
}

async function ociImages(store: ImageStore, s: Spool): Promise<NewImage[]> {
  if (!s.files.has('index.json')) {
    throw new InvalidError(
      'loading images: not an image archive (no manifest.json from docker save, no index.json of an OCI layout)',
    );
  }
  const blob = (d: Descriptor) => `blobs/${d.digest.replace(':', '/')}`;
  const index = await s.json<Index>('index.json');
  if (!Array.isArray(index.manifests)) throw new InvalidError('loading images: index.json has no manifests');
  const out: NewImage[] = [];
  for (const top of index.manifests) {
    let desc: Descriptor | undefined = top;
    if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
      desc = selectPlatform(await s.json<Index>(blob(top)));
      if (!desc) continue; // no linux/amd64 variant
    }
    const manifestBytes = await s.read(blob(desc));
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    const layers: Descriptor[] = [];
    for (const l of manifest.layers ?? []) {
      const got = await s.adoptLayer(store, blob(l), l.digest);
      layers.push({ ...got, mediaType: l.mediaType });
    }
    const name = top.annotations?.[ANNOTATION_IMAGE_NAME] ?? top.annotations?.[ANNOTATION_REF_NAME];
    // A bare ref.name ("latest") names no repository: the image stays untagged.
    const tags = name && /[:/]/.test(name) ? [tagOf(name)] : [];
    out.push({ config: await s.read(blob(manifest.config)), layers, tags, manifest: manifestBytes });
  }
  if (out.length === 0) throw new InvalidError('loading images: index.json lists no linux/amd64 image');
  return out;
}

function tagOf(name: string): string {
  return normalizeReference(name);
}
