/**
 * `docker commit`: a container's upperdir becomes a new top layer on its
 * image (overlay whiteouts turned back into `.wh.` entries), with the config
 * changed as asked.
 */
import type { ContainerConfig } from '../types.ts';
import { applyChanges } from './changes.ts';
import type { ImageStore } from './image-store.ts';
import { packUpperdir } from './layer-tar.ts';
import { type ImageConfig, MEDIA } from './oci.ts';
import { referenceFor } from './reference.ts';
import { isRuntimePath, readRootfsRecord, rootfsPaths } from './rootfs.ts';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions applied to the config (CMD, ENV, ...). */
  changes?: string[];
  /** Replaces the parent's container config before `changes` apply. */
  config?: ContainerConfig;
  /** Recorded in the config's `container` field. */
  containerId?: string;
  /** The history line, e.g. the container's command. */
  createdBy?: string;
}

export async function commitRootfs(
  store: ImageStore,
  containerDir: string,
  opts: CommitOptions = {},
): Promise<{ Id: string }> {
  const { imageId } = await readRootfsRecord(containerDir);
  const parent = store.resolve(imageId);
  const parentConfig = await store.config(parent.id);
  const config = applyChanges(opts.config ?? parentConfig.config ?? {}, opts.changes ?? []);
  const tags = opts.repo ? [referenceFor(opts.repo, opts.tag || undefined)] : [];
  const layer = await store.content.ingest(packUpperdir(rootfsPaths(containerDir).upper, isRuntimePath));
  const created = new Date().toISOString();
  const next: ImageConfig = {
    ...parentConfig,
    created,
    config,
    rootfs: { type: 'layers', diff_ids: [...parentConfig.rootfs.diff_ids, layer.digest] },
    history: [
      ...(parentConfig.history ?? []),
      {
        created,
        created_by: opts.createdBy ?? '',
        ...(opts.author ? { author: opts.author } : {}),
        ...(opts.comment ? { comment: opts.comment } : {}),
      },
    ],
  };
  if (opts.author !== undefined) next.author = opts.author;
  else delete next.author;
  if (opts.comment !== undefined) next.comment = opts.comment;
  else delete next.comment;
  if (opts.containerId !== undefined) next.container = opts.containerId;
  const release = store.lease([layer.digest]);
  try {
    const { id } = await store.register({
      config: Buffer.from(JSON.stringify(next)),
      layers: [
        ...parent.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
        { mediaType: MEDIA.ociLayer, digest: layer.digest, size: layer.size },
      ],
      tags,
      parent: parent.id,
    });
    return { Id: id };
  } finally {
    release();
  }
}
