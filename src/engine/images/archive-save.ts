/**
 * `docker save`: one tar that is both a Docker archive (manifest.json,
 * repositories) and an OCI image layout (oci-layout, index.json), sharing one
 * blobs/sha256 directory — the layout Docker 25+ writes, so `docker load`,
 * skopeo, podman and our own load all read it.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import type { ImageStore } from './image-store.ts';
import type { ImageRecord } from './metadata.ts';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, type Descriptor, type Manifest, MEDIA } from './oci.ts';
import {
  familiarReference,
  familiarRepository,
  formatReference,
  isFullId,
  parseReference,
} from './reference.ts';

interface Selected {
  record: ImageRecord;
  /** Full tag references to record for it. */
  tags: string[];
}

/** Resolves refs to images; a name saves that tag, an id saves the image untagged (as Docker does). */
function select(store: ImageStore, refs: string[]): Selected[] {
  const byId = new Map<string, Selected>();
  for (const ref of refs) {
    const record = store.resolve(ref);
    const sel = byId.get(record.id) ?? { record, tags: [] };
    byId.set(record.id, sel);
    const idLike =
      isFullId(ref) || (/^(sha256:)?[a-f0-9]+$/.test(ref) && record.id.includes(ref.replace('sha256:', '')));
    if (!idLike) {
      const full = formatReference(parseReference(ref));
      if (record.tags.includes(full) && !sel.tags.includes(full)) sel.tags.push(full);
    }
  }
  return [...byId.values()];
}

/** Fixed entry times make a save of the same images byte-identical. */
const EPOCH = new Date(0);
const blobName = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/** Starts writing the archive; resolution errors (No such image) throw before any byte is sent. */
export async function saveArchive(store: ImageStore, refs: string[]): Promise<Readable> {
  const images = select(store, refs);
  const out = pack();
  const written = new Set<string>();
  const addBytes = (name: string, data: string | Buffer) =>
    new Promise<void>((resolve, reject) =>
      out.entry({ name, mode: 0o644, mtime: EPOCH }, data, (e) => (e ? reject(e) : resolve())),
    );
  const addBlob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const size = await store.content.size(digest);
    const sink = out.entry({ name: blobName(digest), size, mode: 0o644, mtime: EPOCH });
    await pipeline(store.content.openRead(digest), sink);
  };
  const run = async () => {
    const index: Descriptor[] = [];
    const dockerManifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    await addBytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    for (const { record, tags } of images) {
      await addBlob(record.id);
      for (const l of record.layers) await addBlob(l.digest);
      await addBlob(record.manifestDigest);
      const manifest = await store.content.readJson<Manifest>(record.manifestDigest);
      const desc: Descriptor = {
        mediaType: manifest.mediaType ?? MEDIA.ociManifest,
        digest: record.manifestDigest,
        size: await store.content.size(record.manifestDigest),
      };
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        const tag = parseReference(t).tag ?? 'latest';
        index.push({ ...desc, annotations: { [ANNOTATION_IMAGE_NAME]: t, [ANNOTATION_REF_NAME]: tag } });
        const repo = familiarRepository(t.slice(0, t.length - tag.length - 1));
        const top = record.layers.at(-1);
        if (top) {
          repositories[repo] ??= {};
          const tagsOfRepo = repositories[repo];
          tagsOfRepo[tag] = top.diffId.slice(7);
        }
      }
      dockerManifest.push({
        Config: blobName(record.id),
        RepoTags: tags.length > 0 ? tags.map(familiarReference) : null,
        Layers: record.layers.map((l) => blobName(l.digest)),
      });
    }
    await addBytes(
      'index.json',
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: index }),
    );
    await addBytes('manifest.json', JSON.stringify(dockerManifest));
    if (Object.keys(repositories).length > 0) await addBytes('repositories', JSON.stringify(repositories));
    out.finalize();
  };
  const result = new PassThrough();
  run().catch((err: Error) => out.destroy(err));
  pipeline(out, result).catch((err: Error) => result.destroy(err));
  return result;
}
