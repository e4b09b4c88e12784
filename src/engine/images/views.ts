/**
 * Docker API shapes of an image (ImageSummary, ImageInspect, history) from
 * its record and config. Pure functions: the store passes what they need.
 */
import type { ImageHistoryItem, ImageInspect, ImageSummary } from '../types.ts';
import type { ImageRecord } from './metadata.ts';
import type { ImageConfig } from './oci.ts';
import { familiarReference } from './reference.ts';

export function imageSize(record: ImageRecord): number {
  return record.layers.reduce((n, l) => n + l.unpackedSize, 0);
}

function unixSeconds(iso: string | undefined): number {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

export function toSummary(record: ImageRecord, config: ImageConfig): ImageSummary {
  const size = imageSize(record);
  return {
    Id: record.id,
    ParentId: record.parent,
    RepoTags: record.tags.map(familiarReference),
    RepoDigests: record.digests.map(familiarReference),
    Created: unixSeconds(config.created),
    Size: size,
    SharedSize: -1,
    VirtualSize: size,
    Labels: config.config?.Labels ?? null,
    Containers: -1,
  };
}

export function toInspect(record: ImageRecord, config: ImageConfig, layerDirs: string[]): ImageInspect {
  const size = imageSize(record);
  const top = layerDirs.at(-1);
  const lower = layerDirs.slice(0, -1).reverse();
  const data: Record<string, string> = {};
  if (top !== undefined) data.UpperDir = top;
  if (lower.length > 0) data.LowerDir = lower.join(':');
  return {
    Id: record.id,
    RepoTags: record.tags.map(familiarReference),
    RepoDigests: record.digests.map(familiarReference),
    Parent: record.parent,
    Comment: config.comment ?? config.history?.at(-1)?.comment ?? '',
    Created: config.created ?? new Date(0).toISOString(),
    Container: config.container ?? '',
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: config.architecture,
    Os: config.os,
    Size: size,
    VirtualSize: size,
    GraphDriver: { Name: 'overlay2', Data: data },
    RootFS: { Type: 'layers', Layers: [...config.rootfs.diff_ids] },
    Metadata: { LastTagTime: record.lastTagTime },
  };
}

/** Newest first, as `docker history` prints it; the top entry carries the id and tags. */
export function toHistory(record: ImageRecord, config: ImageConfig): ImageHistoryItem[] {
  const entries = config.history?.length
    ? config.history
    : record.layers.map(() => ({ created: config.created, created_by: '', comment: '' }));
  let layer = 0;
  const items: ImageHistoryItem[] = entries.map((h) => {
    const empty = 'empty_layer' in h && h.empty_layer === true;
    const size = empty ? 0 : (record.layers[layer++]?.unpackedSize ?? 0);
    return {
      Id: '<missing>',
      Created: unixSeconds(h.created),
      CreatedBy: h.created_by ?? '',
      Tags: null,
      Size: size,
      Comment: h.comment ?? '',
    };
  });
  items.reverse();
  const first = items[0];
  if (first) {
    first.Id = record.id;
    first.Tags = record.tags.map(familiarReference);
  }
  return items;
}
