/**
 * `docker import`: a root filesystem tarball (plain or gzip) becomes a
 * single-layer image. The layer is stored uncompressed, so its digest is its
 * diff id; `changes` are Dockerfile instructions applied to the config.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidError } from '../../lib/errors.ts';
import type { ProgressMessage } from '../types.ts';
import { applyChanges } from './changes.ts';
import type { ImageStore } from './image-store.ts';
import { maybeGunzip } from './layer-tar.ts';
import { hostPlatform, type ImageConfig, MEDIA } from './oci.ts';
import { referenceFor } from './reference.ts';

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes?: string[];
  /** History comment; Docker's default is "Imported from -". */
  message?: string;
  onProgress?: (m: ProgressMessage) => void;
}

export async function importRootfs(
  store: ImageStore,
  tar: Readable,
  opts: ImportOptions = {},
): Promise<{ Id: string }> {
  // Validate everything cheap before reading the stream.
  const config = applyChanges({}, opts.changes ?? []);
  const tags = opts.repo ? [referenceFor(opts.repo, opts.tag || undefined)] : [];
  const plain = maybeGunzip();
  pipeline(tar, plain).catch(() => {}); // a failing input destroys `plain`, failing the ingest
  const { digest, size } = await store.content.ingest(plain);
  if (size === 0) {
    await store.gc();
    throw new InvalidError('importing image: the input is empty, not a tar archive');
  }
  const release = store.lease([digest]);
  const created = new Date().toISOString();
  const image: ImageConfig = {
    ...hostPlatform(),
    created,
    config,
    rootfs: { type: 'layers', diff_ids: [digest] },
    history: [{ created, comment: opts.message || 'Imported from -' }],
  };
  try {
    const { id } = await store.register({
      config: Buffer.from(JSON.stringify(image)),
      layers: [{ mediaType: MEDIA.ociLayer, digest, size }],
      tags,
    });
    release();
    opts.onProgress?.({ status: id });
    return { Id: id };
  } catch (err) {
    release();
    await store.gc();
    if (err instanceof InvalidError) {
      throw new InvalidError(`importing image: the input is not a tar archive (${err.message})`, {
        cause: err,
      });
    }
    throw err;
  }
}
