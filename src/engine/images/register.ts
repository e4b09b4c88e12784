/**
 * Registration of a new image: the one path by which load, import, commit
 * (and later pull) add images. Snapshots are unpacked before the record is
 * written, so a recorded image is always mountable.
 */
import { InvalidError, NotFoundError } from '../../lib/errors.ts';
import { sha256 } from './content-store.ts';
import type { ImageStore, NewImage, Registered } from './image-store.ts';
import type { ImageRecord, LayerRecord } from './metadata.ts';
import { type Descriptor, type ImageConfig, type Manifest, MEDIA } from './oci.ts';
import { chainIds } from './snapshots.ts';

/**
 * Adds an image whose layer blobs are in the content store: unpacks missing
 * snapshots, stores config and manifest, records it and moves `tags` to it.
 */
export async function registerImage(
  store: ImageStore,
  img: NewImage,
): Promise<Registered & { config: ImageConfig }> {
  let config: ImageConfig;
  try {
    config = JSON.parse(Buffer.from(img.config).toString('utf8')) as ImageConfig;
  } catch (err) {
    throw new InvalidError('reading image config: not valid JSON', { cause: err });
  }
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== img.layers.length) {
    throw new InvalidError(
      `reading image config: ${diffIds?.length ?? 0} diff ids for ${img.layers.length} layers`,
    );
  }
  const chains = chainIds(diffIds);
  const id = sha256(img.config);
  const manifest =
    img.manifest ?? Buffer.from(JSON.stringify(buildManifest(id, img.config.length, img.layers)));
  const manifestDigest = sha256(manifest);
  // Everything this image will reference stays out of gc's reach until recorded.
  const release = store.lease([id, manifestDigest, ...img.layers.map((l) => l.digest), ...chains]);
  try {
    await store.content.put(img.config);
    const layers: LayerRecord[] = [];
    for (const [i, l] of img.layers.entries()) {
      const chainId = chains[i] as string;
      const diffId = diffIds[i] as string;
      const { size } = await store.snapshots.ensure(chainId, diffId, () => store.content.openRead(l.digest));
      layers.push({
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        diffId,
        chainId,
        unpackedSize: size,
      });
    }
    await store.content.put(manifest);
    const now = new Date().toISOString();
    const moved: Registered['moved'] = [];
    await store.meta.update((images) => {
      images[id] ??= {
        id,
        manifestDigest,
        layers,
        tags: [],
        digests: [],
        parent: img.parent ?? '',
        created: config.created ?? now,
        lastTagTime: '',
      };
      for (const t of img.tags ?? []) {
        const from = Object.values(images).find((r) => r.id !== id && r.tags.includes(t));
        if (from) moved.push({ tag: t, from: from.id });
        setTag(images, id, t);
      }
      const rec = images[id];
      for (const d of img.digests ?? []) if (rec && !rec.digests.includes(d)) rec.digests.push(d);
    });
    return { id, moved, config };
  } finally {
    release();
  }
}

function buildManifest(configDigest: string, configSize: number, layers: Descriptor[]): Manifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
}

/** Points `full` at image `id`, taking it from any other image. */
export function setTag(images: Record<string, ImageRecord>, id: string, full: string): void {
  for (const r of Object.values(images)) {
    if (r.id !== id) r.tags = r.tags.filter((t) => t !== full);
  }
  const rec = images[id];
  if (!rec) throw new NotFoundError(`No such image: ${id}`);
  if (!rec.tags.includes(full)) rec.tags.push(full);
  rec.lastTagTime = new Date().toISOString();
}
